import ArgumentParser
import TrolleyCLIKit
import TrolleyJobContracts

/// `trolley queues resume`: workers claim from a paused queue again.
struct QueuesResume: AsyncParsableCommand {
  static let configuration = QueueTarget.command("resume", abstract: "Resume a paused queue.")

  @OptionGroup var queue: QueueTarget

  func run() async throws {
    let name = queue.name
    let wasPaused = try await QueueOperations.resume(name, store: try queue.options.store())
    queue.options.show(
      .object([
        .init("queue", .string(name)), .init("paused", .bool(false)),
        .init("was_paused", .bool(wasPaused)),
      ]),
      text: (wasPaused ? "Resumed queue \(name)." : "Queue \(name) was not paused; nothing to do.")
        + "\n")
  }
}
