import ArgumentParser
import Foundation
import TrolleyJobContracts
import TrolleyWorkers

/// `trolley train list`: every distributed run with its progress.
struct TrainList: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "list", abstract: "List distributed training runs with rounds merged.")

  @OptionGroup var options: OperatorOptions

  func run() async throws {
    let runs = TrainingRuns(store: try options.context().store())
    var lines: [[String: Any]] = []
    for run in try await runs.list() {
      let jobs = try await runs.jobs(run)
      let merged = jobs.filter { $0.kind == "train.merge" && $0.state == "succeeded" }.count
      let dead = jobs.filter { $0.state == "dead" }.count
      let state =
        dead > 0 ? "failed" : merged == run.settings.rounds ? "finished" : "running"
      lines.append([
        "run": run.settings.run, "rounds": run.settings.rounds, "merged": merged,
        "state": state, "batch": run.batchID,
      ])
      if !options.json {
        print(
          "\(run.settings.run)\t\(state)\tround \(merged)/\(run.settings.rounds)\tbatch \(run.batchID)"
        )
      }
    }
    if options.json {
      let data = try JSONSerialization.data(withJSONObject: lines, options: [.sortedKeys])
      print(String(decoding: data, as: UTF8.self))
    }
  }
}
