import ArgumentParser
import Datasets

/// `trolley dataset create NAME`.
struct DatasetCreate: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "create",
    abstract: "Create an empty dataset with DataComp's default filters.",
    discussion: """
      Examples:
        trolley dataset create photos
        trolley dataset create photos --json
      """)

  @Argument(help: "The dataset's name: letters, digits, '.', '_' or '-'.")
  var name: String

  @Flag(help: "Print JSON.")
  var json = false

  @OptionGroup var config: ConfigOptions
  @OptionGroup var database: DatabaseOptions

  func run() async throws {
    let context = try OperatorContext(config: config, database: database)
    let (store, _) = try context.datasets()
    do {
      let record = try await store.datasetCreate(name: name)
      if json {
        try printEncodedJSON(record)
      } else {
        print("created dataset \(record.name) (id \(record.id))")
      }
    } catch let error as DatasetError {
      throw datasetFailure(error)
    }
  }
}
