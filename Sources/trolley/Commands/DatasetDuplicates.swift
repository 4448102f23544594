import ArgumentParser
import Datasets
import TrolleyBasics

/// `trolley dataset duplicates NAME`: the groups the last dedupe found.
struct DatasetDuplicates: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "duplicates",
    abstract: "List duplicate groups, the kept item first in each.",
    discussion: """
      Examples:
        trolley dataset duplicates photos
        trolley dataset duplicates photos --json --limit 100000
      """)

  @OptionGroup var dataset: DatasetName

  @Option(help: "At most this many rows (default 1000).")
  var limit = 1000

  @OptionGroup var options: OperatorOptions

  func run() async throws {
    try await options.withDatasets { store, _ in
      let record = try await store.datasetGet(name: dataset.name)
      let rows = try await store.duplicates(datasetID: record.id, limit: max(limit, 0))
      if options.json {
        try printEncodedJSON(rows)
        return
      }
      var group: Int64? = nil
      for row in rows {
        if row.group != group {
          print("group \(row.group):")
          group = row.group
        }
        let verdict =
          row.status == "ok"
          ? "kept"
          : "\(row.reason ?? "duplicate") of \(row.duplicateOf ?? 0), distance \(row.distance ?? 0)"
        print("  \(row.id)\t\(verdict)\t\(row.source)")
      }
      if rows.isEmpty {
        print("no duplicate groups (has `trolley dataset dedupe \(dataset.name)` run?)")
      }
    }
  }
}
