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
    // Recorded first, so that retention (which skips exported rounds) cannot prune the round
    // between this read and the record.
    try await runs.markExported(record, round: chosen)
    let bytes = try await TrainingArtifacts(
      client: store.client, run: run, directory: settings.artifacts
    ).get(TrainingArtifactName.checkpoint(run, round: chosen))
    let model = try DiLoCoRound.model(settings, checkpoint: bytes)
    try ModelExport.write(model, to: out, adapter: adapter)
    if settings.traversal == false { try Self.recordNoTraversal(in: out) }
    print("exported \(run) round \(chosen) to \(out)")
  }

  /// A run trained with `--no-traversal` says so in its config.json (`trol_traversal: false`;
  /// only Trolley reads the key, the official loader ignores it).
  static func recordNoTraversal(in folder: String) throws {
    let url = URL(fileURLWithPath: folder + "/config.json")
    guard
      var config = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
        as? [String: Any]
    else {
      throw ValidationError("\(url.path) is not a JSON object; the export is incomplete")
    }
    config["trol_traversal"] = false
    try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys])
      .write(to: url)
  }
}
