import ArgumentParser
import TrolleyCLIKit
import TrolleyJobContracts

/// `trolley queues resume`: workers claim from a paused queue again.
struct QueuesResume: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "resume",
    abstract: "Resume a paused queue.",
    discussion: """
      Example:
        trolley queues resume default
      """)

  @Argument(help: ArgumentHelp("The queue's name.", valueName: "name"))
  var name: String

  @OptionGroup var options: OperatorOptions

  func run() async throws {
    let context = try options.context()
    let wasPaused = try await QueueOperations.resume(name, store: try context.store())
    options.show(
      .object([
        .init("queue", .string(name)), .init("paused", .bool(false)),
        .init("was_paused", .bool(wasPaused)),
      ]),
      text: (wasPaused ? "Resumed queue \(name)." : "Queue \(name) was not paused; nothing to do.")
        + "\n")
  }
}
