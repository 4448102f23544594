import ArgumentParser
import TrolleyCLIKit

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

  @Flag(help: "Print JSON.")
  var json = false

  @OptionGroup var config: ConfigOptions

  @OptionGroup var database: DatabaseOptions

  func run() async throws {
    let context = try OperatorContext(config: config, database: database)
    let wasPaused = try await QueueOperations.resume(name, store: try context.store())
    if json {
      printJSON(
        .object([
          .init("queue", .string(name)), .init("paused", .bool(false)),
          .init("was_paused", .bool(wasPaused)),
        ]))
    } else {
      print(wasPaused ? "Resumed queue \(name)." : "Queue \(name) was not paused; nothing to do.")
    }
  }
}
