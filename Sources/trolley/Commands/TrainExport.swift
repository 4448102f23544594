import ArgumentParser
import Foundation
import JobQueue
import Postgres
import Training
import TrolleyJobContracts
import TrolleyWorkers

/// `trolley train export`: a round's checkpoint as a model folder `trolley ask` loads.
struct TrainExport: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "export",
    abstract:
      "Write a run's round checkpoint (default: the last merged) in the official TroL layout.")

  @Argument(help: "The run's name.") var run: String
  @Option(help: "A new folder to write.") var out: String
  @Option(help: "The round (0-based; default the last merged).") var round: Int?
  @Flag(help: "Keep the base and write the LoRA as a PEFT adapter beside it.") var adapter = false
  @OptionGroup var options: OperatorOptions

  func run() async throws {
    let store = try options.context().store()
    let runs = TrainingRuns(store: store)
    let record = try await runs.run(run)
    guard let last = try await runs.lastMergedRound(record) else {
      throw ValidationError("run \(run) has no merged round yet; `trolley train show \(run)`")
    }
    let chosen = round ?? last
    let settings = record.settings
    let bytes = try await TrainingArtifacts(
      client: store.client, run: run, directory: settings.artifacts
    ).get(TrainingArtifactName.checkpoint(run, round: chosen))
    let tensors = try DiLoCoRound.readTensors(bytes).tensors
    let model = try DiLoCoRound.model(settings)
    for p in model.allParameters {
      guard let values = tensors[p.name] else { continue }
      for i in 0..<min(values.count, p.count) { p.value.p[i] = values[i] }
    }
    try ModelExport.write(model, to: out, adapter: adapter)
    try await runs.markExported(record, round: chosen)
    print("exported \(run) round \(chosen) to \(out)")
  }
}
