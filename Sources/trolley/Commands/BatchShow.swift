import ArgumentParser
import TrolleyCLIKit
import TrolleyJobContracts

/// `trolley batch show`: one batch's exact counts, throughput, ETA and most common errors.
struct BatchShow: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "show",
    abstract: "Show a batch: counts by state, throughput over recent minutes, ETA, top errors.",
    discussion: """
      On a terminal: a progress bar and a sparkline of the last minutes; otherwise one \
      "key: value" per line. --json prints an object with a "counts" object keyed by state.

      Examples:
        trolley batch show 3
        trolley batch show "answer /data/photos" --json
      """)

  @Argument(help: ArgumentHelp("The batch's id or name.", valueName: "batch"))
  var batch: String

  @OptionGroup var options: OperatorOptions

  func run() async throws {
    let context = try options.context()
    let store = try context.store()
    let record = try await BatchOverview.resolve(batch, store: store)
    let summary = try await BatchOverview.summary(of: record, store: store)
    options.show(
      summary.json,
      text: BatchReport.detail(summary, width: context.width, terminal: context.richOutput))
  }
}
