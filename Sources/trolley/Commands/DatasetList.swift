import ArgumentParser
import Datasets

/// `trolley dataset list`.
struct DatasetList: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "list",
    abstract: "List datasets.",
    discussion: """
      Examples:
        trolley dataset list
        trolley dataset list --json
      """)

  @OptionGroup var options: OperatorOptions

  func run() async throws {
    try await options.withDatasets { store, _ in
      let records = try await store.datasetList()
      if options.json {
        try printEncodedJSON(records)
        return
      }
      if records.isEmpty {
        print("no datasets; create one with `trolley dataset create NAME`")
        return
      }
      for record in records {
        let dedupe =
          record.dedupeExact ? "exact" : "\(record.dedupeHash)@\(record.dedupeDistance)"
        print("\(record.name)\tid \(record.id)\tdedupe \(dedupe)")
      }
    }
  }
}
