import ArgumentParser
import TrolleyCLIKit
import TrolleyJobContracts

/// `trolley prune`: delete finished jobs older than an age, in small batches.
struct Prune: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Delete finished jobs (and stopped workers) older than an age.",
    discussion: """
      Deletes in small batches without long locks, so it is safe while workers run. Batch \
      counts keep recording what happened to the pruned jobs. Succeeded jobs (results) are \
      deleted only when --state names them, and never while their batch has unfinished jobs; \
      export first. Pruned jobs' unique keys stay used, so re-running an enqueue adds nothing.

      Examples:
        trolley prune --older-than 7d --dry-run          # what would go, changing nothing
        trolley prune --older-than 7d                    # dead and cancelled jobs
        trolley prune --older-than 30d --state succeeded --json
      """)

  @Option(
    help: ArgumentHelp("Minimum age since the job finished: 30m, 12h, 7d, 2w...", valueName: "age"))
  var olderThan: String

  @Option(
    help: ArgumentHelp(
      "succeeded, dead, cancelled (comma-separated), or all: dead and cancelled.",
      valueName: "state"))
  var state = "all"

  @Flag(help: "Count what would be deleted (by state, with the oldest ids) and delete nothing.")
  var dryRun = false

  @OptionGroup var options: OperatorOptions

  func run() async throws {
    let seconds = try DurationText.seconds(olderThan, option: "--older-than")
    let states = try PruneOperation.states(state)
    let context = try options.context()
    if dryRun {
      let (report, sample) = try await PruneOperation.preview(
        olderThan: seconds, states: states, store: try context.store())
      if options.json {
        var value = PruneOperation.json(report)
        if case .object(var members) = value {
          members.insert(.init("dry_run", .bool(true)), at: 0)
          members.append(.init("sample", .array(sample.map { .number(String($0)) })))
          value = .object(members)
        }
        printJSON(value)
      } else {
        print(
          PruneOperation.previewText(report, sample: sample, olderThan: olderThan), terminator: "")
      }
      return
    }
    let report = try await PruneOperation.run(
      olderThan: seconds, states: states, store: try context.store())
    options.show(
      PruneOperation.json(report), text: PruneOperation.text(report, olderThan: olderThan))
  }
}
