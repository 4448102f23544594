import ArgumentParser
import JobQueue
import TrolleyCLIKit

/// `trolley export`: a batch's results as JSONL or CSV, streamed at constant memory.
struct Export: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Export a batch's jobs and results as JSON Lines or CSV.",
    discussion: """
      One record per job: job_id, input_id, batch, kind, state, image, question, answer, error, \
      model, attempts, timings, metadata, finished_at. Streamed from the database at constant \
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
      "jsonl or csv. Default: from --out's extension, else jsonl.", valueName: "format"))
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
    let chosen: ExportFormat
    if let format {
      guard let parsed = ExportFormat(rawValue: format.lowercased()) else {
        throw CLIError(
          .invalidArgument, "--format \"\(format)\" is not supported. Use jsonl or csv.")
      }
      chosen = parsed
    } else {
      chosen = out.map { $0.lowercased().hasSuffix(".csv") } == true ? .csv : .jsonl
    }
    let states = try JobFilter.states(state)
    let context = try OperatorContext(config: config, database: database)
    let store = try context.store()
    let record = try await BatchOverview.resolve(batch, store: store)
    let report = try await ExportOperation.run(
      ExportRequest(batch: record, states: states, format: chosen, outPath: out), store: store)
    if let destination = report.destination {
      printError(
        "Exported \(Formatting.count(Int64(report.records))) jobs of batch \(record.id) to \(destination)."
      )
    }
  }
}
