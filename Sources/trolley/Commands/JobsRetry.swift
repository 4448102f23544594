import ArgumentParser
import JobQueue
import TrolleyCLIKit
import TrolleyJobContracts

/// `trolley jobs retry`: dead jobs back to available, by id or by filter.
struct JobsRetry: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "retry",
    abstract: "Retry dead jobs by id or by filter (their error and crash budgets start afresh).",
    discussion: """
      Without ids, at least one filter is required; --all retries every dead job.

      Examples:
        trolley jobs retry 1234 1235
        trolley jobs retry --batch 3 --error "connection reset" --dry-run   # check first
        trolley jobs retry --batch 3 --error "connection reset"
        trolley jobs retry --all --json
      """)

  @Argument(help: ArgumentHelp("Job ids to retry.", valueName: "id"))
  var ids: [Int64] = []

  @OptionGroup var filters: JobFilterOptions

  @Flag(help: "Retry every dead job (when no filter is given).")
  var all = false

  @Flag(
    help: "Show how many jobs would be retried (by state, with the first few) and change nothing.")
  var dryRun = false

  @OptionGroup var options: OperatorOptions

  func run() async throws {
    let filter = try filters.selection(
      ids: ids, all: all, verb: "retry", example: "--error \"timeout\"", allJobs: "every dead job")
    let context = try options.context()
    if dryRun {
      let preview = try await JobOperations.preview(
        filter, ids: ids, states: [.dead], store: try context.store())
      options.show(preview, verb: "retry")
      return
    }
    let store = try context.store()
    var report = try await JobOperations.retry(filter, ids: ids, store: store)
    if !ids.isEmpty { report.matched = max(report.matched, report.changed) }
    options.show(
      .object([
        .init("matched", .number(String(report.matched))),
        .init("retried", .number(String(report.changed))),
      ]),
      text:
        "Retried \(Formatting.count(Int64(report.changed))) dead job\(report.changed == 1 ? "" : "s").\n"
    )
  }
}
