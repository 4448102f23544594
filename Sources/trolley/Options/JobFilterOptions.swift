import ArgumentParser
import TrolleyBasics
import TrolleyCLIKit

/// The filters of `trolley jobs list|retry|cancel`; they combine with AND.
struct JobFilterOptions: ParsableArguments {
  @Option(help: ArgumentHelp("Only jobs of this batch (id or name).", valueName: "batch"))
  var batch: String?

  @Option(
    help: ArgumentHelp(
      "Only jobs in these states, comma-separated (available, running, succeeded, retrying, dead, cancelled, scheduled, waiting).",
      valueName: "states"))
  var state: String?

  @Option(help: ArgumentHelp("Only jobs of this kind, such as trol.answer.", valueName: "kind"))
  var kind: String?

  @Option(help: ArgumentHelp("Only jobs in this queue.", valueName: "name"))
  var queue: String?

  @Option(
    help: ArgumentHelp(
      "Only jobs created since: a duration back (30m, 2h, 7d) or a date (2026-11-22).",
      valueName: "when"))
  var since: String?

  @Option(
    help: ArgumentHelp(
      "Only jobs whose last error contains this text (case-insensitive).", valueName: "text"))
  var error: String?

  /// The filter of a command that changes jobs (`retry`, `cancel`): it must be told which jobs,
  /// by `ids`, by a filter or by `all`; else the error says how, with `example` (a filter) and
  /// what `--all` would take.
  func selection(ids: [Int64], all: Bool, verb: String, example: String, allJobs: String) throws
    -> JobFilter
  {
    let filter = try filter()
    guard !ids.isEmpty || !filter.isEmpty || all else {
      throw CLIError(
        .invalidArgument,
        "say which jobs to \(verb): give job ids, a filter such as --batch 3 or \(example), "
          + "or --all for \(allJobs).")
    }
    return filter
  }

  /// The filter the options describe.
  func filter() throws -> JobFilter {
    JobFilter(
      batch: batch, states: try state.flatMap { try JobFilter.states($0) }, kind: kind,
      queue: queue,
      since: try since.map { try DurationText.since($0, option: "--since") }, errorContains: error)
  }
}
