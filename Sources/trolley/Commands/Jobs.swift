import ArgumentParser

/// `trolley jobs`: the parent of the job subcommands.
struct Jobs: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "List, inspect, retry and cancel jobs.",
    discussion: """
      Examples:
        trolley jobs list --batch 3 --state dead
        trolley jobs retry --batch 3 --error "timed out"
        trolley jobs cancel --batch 3
      """,
    subcommands: [JobsList.self, JobsShow.self, JobsRetry.self, JobsCancel.self])
}
