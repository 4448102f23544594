import ArgumentParser

/// `trolley batch`: the parent of the batch subcommands.
struct Batch: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Inspect one batch.",
    discussion: """
      Example:
        trolley batch show 3
      """,
    subcommands: [BatchShow.self])
}
