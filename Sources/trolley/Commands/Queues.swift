import ArgumentParser

/// `trolley queues`: the parent of the queue subcommands.
struct Queues: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "List, pause and resume queues.",
    discussion: """
      Examples:
        trolley queues list
        trolley queues pause default
        trolley queues resume default
      """,
    subcommands: [QueuesList.self, QueuesPause.self, QueuesResume.self])
}
