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

  @Flag(help: "Print JSON.")
  var json = false

  @OptionGroup var config: ConfigOptions
  @OptionGroup var database: DatabaseOptions

  func run() async throws {
    let context = try OperatorContext(config: config, database: database)
    let (store, _) = try context.datasets()
    let records = try await store.datasetList()
    if json {
      try printEncodedJSON(records)
      return
    }
    if records.isEmpty {
      print("no datasets; create one with `trolley dataset create NAME`")
      return
    }
    for record in records {
      print("\(record.name)\tid \(record.id)\tdedupe \(record.dedupeHash)@\(record.dedupeDistance)")
    }
  }
}
