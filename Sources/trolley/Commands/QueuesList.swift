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
    let queues = try await QueueOperations.list(store: try options.store())
    options.show(.array(queues.map(QueueOperations.json)), text: QueueOperations.table(queues))
  }
}
