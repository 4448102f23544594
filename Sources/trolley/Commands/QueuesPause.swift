import ArgumentParser
import TrolleyCLIKit
import TrolleyJobContracts

/// `trolley queues pause`: workers stop claiming from a queue.
struct QueuesPause: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "pause",
    abstract: "Pause a queue: workers claim no new jobs from it; running jobs finish.",
    discussion: """
      Example:
        trolley queues pause default
      """)

  @Argument(help: ArgumentHelp("The queue's name.", valueName: "name"))
  var name: String

  @OptionGroup var options: OperatorOptions

  func run() async throws {
    let context = try options.context()
    try await QueueOperations.pause(name, store: try context.store())
    options.show(
      .object([.init("queue", .string(name)), .init("paused", .bool(true))]),
      text: "Paused queue \(name). Resume it with: trolley queues resume \(name)\n")
  }
}
