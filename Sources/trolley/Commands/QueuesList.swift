import ArgumentParser
import TrolleyCLIKit

/// `trolley queues list`: each queue's unfinished jobs and whether it is paused.
struct QueuesList: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "list",
    abstract: "List queues with their unfinished jobs by state and whether they are paused.",
    discussion: """
      Examples:
        trolley queues list
        trolley queues list --json
      """)

  @Flag(help: "Print JSON.")
  var json = false

  @OptionGroup var config: ConfigOptions

  @OptionGroup var database: DatabaseOptions

  func run() async throws {
    let context = try OperatorContext(config: config, database: database)
    let queues = try await QueueOperations.list(store: try context.store())
    if json {
      printJSON(.array(queues.map(QueueOperations.json)))
    } else {
      print(QueueOperations.table(queues), terminator: "")
    }
  }
}
