import ArgumentParser
import Datasets
import TrolleyBasics

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

  @OptionGroup var options: OperatorOptions

  func run() async throws {
    try await options.withDatasets { store, _ in
      let record = try await store.datasetCreate(name: name)
      try options.show(record) { "created dataset \(record.name) (id \(record.id))" }
    }
  }
}
