import ArgumentParser
import Datasets
import Foundation
import TrolleyBasics

/// `trolley dataset show NAME`: items by status and reason, jobs by stage and state.
struct DatasetShow: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "show",
    abstract: "Show a dataset's progress by stage, and its items by status and reason.",
    discussion: """
      Each stage (ingest, dedupe, caption, shard) shows its jobs done of planned, and how many run,
      wait or failed; items are counted by status (pending, ok, bad, filtered, duplicate) and
      reason. --json prints the same as one object (progress.by_stage, progress.by_status).

      Examples:
        trolley dataset show photos
        trolley dataset show photos --json
      """)

  @OptionGroup var dataset: DatasetName

  @OptionGroup var options: OperatorOptions

  struct Report: Encodable {
    var dataset: DatasetRecord
    var progress: DatasetProgress
  }

  func run() async throws {
    try await options.withDatasets { store, _ in
      let record = try await store.datasetGet(name: dataset.name)
      let progress = try await store.progress(datasetID: record.id)
      if options.json {
        try printEncodedJSON(Report(dataset: record, progress: progress))
        return
      }
      print("dataset \(record.name) (id \(record.id)): \(progress.items) items")
      print("stages (jobs done/planned):")
      for stage in progress.byStage {
        let name = stage.stage.padding(toLength: 8, withPad: " ", startingAt: 0)
        if stage.total == 0 {
          print("  \(name) not planned")
          continue
        }
        let state =
          stage.done == stage.total ? "done" : "\(stage.running) running, \(stage.waiting) waiting"
        print(
          "  \(name) \(stage.done)/\(stage.total) (\(state)\(stage.failed > 0 ? ", \(stage.failed) failed" : ""))"
        )
      }
      print("items by status:")
      for row in progress.byStatus {
        print("  \(row.status)\(row.reason.map { " (\($0))" } ?? "")\t\(row.count)")
      }
    }
  }
}
