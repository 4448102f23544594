import ArgumentParser
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

  /// The filter the options describe.
  func filter() throws -> JobFilter {
    JobFilter(
      batch: batch, states: try state.flatMap { try JobFilter.states($0) }, kind: kind,
      queue: queue,
      since: try since.map { try DurationText.since($0, option: "--since") }, errorContains: error)
  }
}
