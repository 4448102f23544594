import ArgumentParser

/// `trolley enqueue`: the parent of the enqueue subcommands.
struct Enqueue: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Add jobs to the queue: answers or captions for images, or test jobs.",
    discussion: """
      Example:
        trolley enqueue answer --images photos/ --question "How many people are in the picture?"
      """,
    subcommands: [EnqueueAnswer.self, EnqueueCaption.self, EnqueueTest.self])
}
