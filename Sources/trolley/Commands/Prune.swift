import ArgumentParser
import TrolleyCLIKit

/// `trolley prune`: delete finished jobs older than an age, in small batches.
struct Prune: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Delete finished jobs (and stopped workers) older than an age.",
    discussion: """
      Deletes in small batches without long locks, so it is safe while workers run. Batch \
      counts keep recording what happened to the pruned jobs. Export results first if you need them.

      Examples:
        trolley prune --older-than 7d
        trolley prune --older-than 12h --state succeeded --json
      """)

  @Option(
    help: ArgumentHelp("Minimum age since the job finished: 30m, 12h, 7d, 2w...", valueName: "age"))
  var olderThan: String

  @Option(
    help: ArgumentHelp(
      "succeeded, dead, cancelled (comma-separated) or all finished states.", valueName: "state"))
  var state = "all"

  @OptionGroup var options: OperatorOptions

  func run() async throws {
    let seconds = try DurationText.seconds(olderThan, option: "--older-than")
    let states = try PruneOperation.states(state)
    let context = try options.context()
    let report = try await PruneOperation.run(
      olderThan: seconds, states: states, store: try context.store())
    if options.json {
      printJSON(PruneOperation.json(report))
    } else {
      print(PruneOperation.text(report, olderThan: olderThan), terminator: "")
    }
  }
}
