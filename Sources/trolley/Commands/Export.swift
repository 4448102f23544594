import ArgumentParser
import JobQueue
import TrolleyCLIKit

/// `trolley export`: a batch's results as JSONL or CSV, streamed at constant memory.
struct Export: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Export a batch's jobs and results as JSON Lines or CSV.",
    discussion: """
      One record per job: job_id, input_id, batch, kind, state, image, question, answer, error, \
      model, provenance (model identity, weights, generation settings, Trolley version and \
      commit), attempts, timings, metadata, finished_at. Streamed from the database at constant \
      memory. With --out the file appears only when complete (written to a temporary file in \
      the same folder, synced, then renamed); without it, records go to standard output.

      Examples:
        trolley export --batch 3 --out answers.jsonl
        trolley export --batch 3 --format csv --state succeeded --out answers.csv
        trolley export --batch 3 --state dead | jq .error
      """)

  @Option(help: ArgumentHelp("The batch's id or name.", valueName: "batch"))
  var batch: String

  @Option(
    help: ArgumentHelp(
      "jsonl or csv. Default: from --out's extension (.jsonl, .ndjson, .csv; any other is refused), else jsonl.",
      valueName: "format"))
  var format: String?

  @Option(
    help: ArgumentHelp("File to write (atomically). Default: standard output.", valueName: "file"))
  var out: String?

  @Option(
    help: ArgumentHelp(
      "Which jobs: succeeded, dead, cancelled, any comma-separated states, or all.",
      valueName: "state"))
  var state = "all"

  @OptionGroup var config: ConfigOptions

  @OptionGroup var database: DatabaseOptions

  func run() async throws {
    let chosen = try ExportFormat.choose(format: format, out: out)
    let states = try JobFilter.states(state)
    let context = try OperatorContext(config: config, database: database)
    let store = try context.store()
    let record = try await BatchOverview.resolve(batch, store: store)
    let request = ExportRequest(batch: record, states: states, format: chosen, outPath: out)
    // A bar with rate and ETA on a terminal, a line every 10 s in logs: a million rows take
    // most of a minute.
    let reporter = ProgressReporter(
      label: "export", unit: "jobs",
      total: try await ExportOperation.expectedRecords(request, store: store),
      terminal: Terminal.isTerminal(2))
    let report = try await ExportOperation.run(
      request, store: store, progress: { reporter.update($0) })
    reporter.finish()
    if let destination = report.destination {
      printError(
        "Exported \(Formatting.count(Int64(report.records))) jobs of batch \(record.id) to \(destination)."
      )
    }
  }
}
