import ArgumentParser
import TrolleyCLIKit
import TrolleyJobContracts

/// `trolley queues pause`: workers stop claiming from a queue.
struct QueuesPause: AsyncParsableCommand {
  static let configuration = QueueTarget.command(
    "pause", abstract: "Pause a queue: workers claim no new jobs from it; running jobs finish.")

  @OptionGroup var queue: QueueTarget

  func run() async throws {
    let name = queue.name
    try await QueueOperations.pause(name, store: try queue.options.store())
    queue.options.show(
      .object([.init("queue", .string(name)), .init("paused", .bool(true))]),
      text: "Paused queue \(name). Resume it with: trolley queues resume \(name)\n")
  }
}
