import ArgumentParser
import TrolleyCLIKit
import TrolleyJobContracts

/// `trolley batches`: every recent batch with its progress.
struct Batches: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "List batches, newest first, with progress, throughput and ETA.",
    discussion: """
      On a terminal each batch gets a progress bar; otherwise plain columns.

      Examples:
        trolley batches
        trolley batches --limit 5 --json
      """)

  @Option(help: ArgumentHelp("How many batches to show (1...1000).", valueName: "n"))
  var limit = 20

  @Flag(help: "Print JSON: an array of batches with counts by state.")
  var json = false

  @OptionGroup var config: ConfigOptions

  @OptionGroup var database: DatabaseOptions

  func validate() throws {
    guard (1...1000).contains(limit) else {
      throw ValidationError("--limit must be from 1 to 1000.")
    }
  }

  func run() async throws {
    let context = try OperatorContext(config: config, database: database)
    let batches = try await BatchOverview.list(limit: limit, store: try context.store())
    if json {
      printJSON(.array(batches.map(\.json)))
    } else {
      print(
        BatchReport.list(batches, width: context.width, terminal: context.richOutput),
        terminator: "")
    }
  }
}
