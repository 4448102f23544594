import ArgumentParser
import TrolleyCLIKit
import TrolleyJobContracts

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

  @OptionGroup var options: OperatorOptions

  func run() async throws {
    let context = try options.context()
    let queues = try await QueueOperations.list(store: try context.store())
    if options.json {
      printJSON(.array(queues.map(QueueOperations.json)))
    } else {
      print(QueueOperations.table(queues), terminator: "")
    }
  }
}
