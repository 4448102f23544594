import ArgumentParser
import JobQueue
import TrolleyCLIKit
import TrolleyJobContracts

/// `trolley jobs list`: jobs matching filters, oldest first.
struct JobsList: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "list",
    abstract: "List jobs matching filters (batch, state, kind, queue, since, error text).",
    discussion: """
      Pages with --after: pass the last id shown to see the next page.

      Examples:
        trolley jobs list --batch 3 --state dead
        trolley jobs list --state running,retrying --since 1h --json
        trolley jobs list --error "not found" --limit 500 --after 1200
      """)

  @OptionGroup var filters: JobFilterOptions

  @Option(help: ArgumentHelp("At most this many jobs (1...100000).", valueName: "n"))
  var limit = 50

  @Option(help: ArgumentHelp("Only jobs with an id above this (for paging).", valueName: "id"))
  var after: Int64?

  @Flag(help: "Print JSON: one object per line (JSON Lines).")
  var json = false

  @OptionGroup var config: ConfigOptions

  @OptionGroup var database: DatabaseOptions

  func validate() throws {
    guard (1...100_000).contains(limit) else {
      throw ValidationError("--limit must be from 1 to 100000.")
    }
  }

  func run() async throws {
    let context = try OperatorContext(config: config, database: database)
    let jobs = try await JobOperations.list(
      try filters.filter(), afterID: after, limit: limit, store: try context.store())
    if json {
      for job in jobs { printJSON(JobRendering.json(job)) }
    } else if jobs.isEmpty {
      print("No jobs match.")
    } else {
      print(
        JobRendering.table(jobs, width: context.richOutput ? context.width : nil), terminator: "")
      if jobs.count == limit, let last = jobs.last {
        print("More may follow: add --after \(last.id)")
      }
    }
  }
}
