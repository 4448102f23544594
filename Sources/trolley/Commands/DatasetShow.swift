import ArgumentParser
import Datasets

/// `trolley dataset show NAME`: items by status and reason, jobs by stage and state.
struct DatasetShow: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "show",
    abstract: "Show a dataset's items by status and reason, and its jobs by stage.",
    discussion: """
      Examples:
        trolley dataset show photos
        trolley dataset show photos --json
      """)

  @Argument(help: "The dataset's name.")
  var name: String

  @OptionGroup var options: OperatorOptions

  struct Report: Encodable {
    var dataset: DatasetRecord
    var progress: DatasetProgress
  }

  func run() async throws {
    let context = try options.context()
    let (store, _) = try context.datasets()
    do {
      let record = try await store.datasetGet(name: name)
      let progress = try await store.progress(datasetID: record.id)
      if options.json {
        try printEncodedJSON(Report(dataset: record, progress: progress))
        return
      }
      print("dataset \(record.name) (id \(record.id)): \(progress.items) items")
      print("items by status:")
      for row in progress.byStatus {
        print("  \(row.status)\(row.reason.map { " (\($0))" } ?? "")\t\(row.count)")
      }
      print("jobs by stage:")
      if progress.stages.isEmpty { print("  none yet") }
      for row in progress.stages {
        print("  \(row.stage)\t\(row.state)\t\(row.count)")
      }
    } catch let error as DatasetError {
      throw datasetFailure(error)
    }
  }
}
