import ArgumentParser
import TrolleyCLIKit
import TrolleyJobContracts

/// `trolley jobs cancel`: unfinished jobs to cancelled, by id or by filter.
struct JobsCancel: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "cancel",
    abstract:
      "Cancel unfinished jobs by id or by filter (running jobs stop at their next heartbeat).",
    discussion: """
      Without ids, at least one filter is required; --all cancels every unfinished job.

      Examples:
        trolley jobs cancel 1234
        trolley jobs cancel --batch 3 --kind trol.caption --dry-run
        trolley jobs cancel --batch 3 --kind trol.caption
        trolley jobs cancel --queue default --state available --json
      """)

  @Argument(help: ArgumentHelp("Job ids to cancel.", valueName: "id"))
  var ids: [Int64] = []

  @OptionGroup var filters: JobFilterOptions

  @Option(help: ArgumentHelp("Why, recorded on each job.", valueName: "text"))
  var reason: String?

  @Flag(help: "Cancel every unfinished job (when no filter is given).")
  var all = false

  @Flag(
    help: "Show how many jobs would be cancelled (by state, with the first few) and change nothing."
  )
  var dryRun = false

  @OptionGroup var options: OperatorOptions

  func run() async throws {
    let filter = try filters.selection(
      ids: ids, all: all, verb: "cancel", example: "--kind trol.answer",
      allJobs: "every unfinished job")
    let context = try options.context()
    if dryRun {
      let preview = try await JobOperations.preview(
        filter, ids: ids, states: JobOperations.cancellableStates, store: try context.store())
      options.show(preview, verb: "cancel")
      return
    }
    let report = try await JobOperations.cancel(
      filter, ids: ids, reason: reason, store: try context.store())
    if options.json {
      printJSON(
        .object([
          .init("matched", .number(String(report.matched))),
          .init("cancelled", .number(String(report.changed))),
          .init("stop_requested", .number(String(report.requested))),
        ]))
    } else {
      var line =
        "Cancelled \(Formatting.count(Int64(report.changed))) job\(report.changed == 1 ? "" : "s")"
      if report.requested > 0 {
        line +=
          "; asked \(report.requested) running job\(report.requested == 1 ? "" : "s") to stop (they end at their next heartbeat)"
      }
      print(line + ".")
    }
  }
}
