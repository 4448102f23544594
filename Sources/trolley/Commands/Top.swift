import ArgumentParser
import Datasets
import Foundation
import JobQueue
import TrolleyCLIKit

/// `trolley top`: a live full-screen view of queues, batches, workers and failures.
struct Top: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Watch queues, batches, datasets, workers and recent failures live (q or Ctrl-C quits).",
    discussion: """
      Refreshes every second (see --refresh). Needs a terminal of at least 40x10; 80x24 shows \
      every section. --once prints a single screen without taking over the terminal; --json \
      prints one snapshot as JSON. Datasets show each stage's jobs done/planned (ingest, \
      dedupe, caption, shard; "-" when not planned) and their items by status.

      Examples:
        trolley top
        trolley top --refresh 5
        trolley top --once
        trolley top --json
      """)

  @Option(
    help: ArgumentHelp(
      "Seconds between refreshes. Default: config top_refresh (1).", valueName: "seconds"))
  var refresh: Double?

  @Flag(help: "Print one screen and exit (for scripts and logs).")
  var once = false

  @Flag(help: "Print one snapshot as JSON and exit.")
  var json = false

  /// Datasets shown (newest first).
  static let datasetLimit = 6

  @OptionGroup var config: ConfigOptions

  @OptionGroup var database: DatabaseOptions

  func run() async throws {
    var flags: [ConfigurationKey: (flag: String, value: String)] = [:]
    if let refresh { flags[.topRefresh] = ("--refresh", String(refresh)) }
    let context = try OperatorContext(config: config, database: database, flags: flags)
    let interval = try context.configuration.positiveNumber(.topRefresh) ?? 1
    let store = try context.store()
    if json {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
      encoder.keyEncodingStrategy = .convertToSnakeCase
      let snapshot = try await Self.snapshot(store: store)
      let report = JSONReport(
        time: snapshot.time, queues: snapshot.queues, workers: snapshot.workers,
        failures: snapshot.failures, datasets: snapshot.datasets)
      print(String(decoding: try encoder.encode(report), as: UTF8.self))
      return
    }
    if once {
      let size = Terminal.size(1) ?? (80, 24)
      let snapshot = try await Self.snapshot(store: store)
      print(
        TopScreen.render(snapshot, width: size.columns, height: size.rows).joined(separator: "\n"))
      return
    }
    let screen = try RawMode()
    defer { screen.restore() }
    var snapshot = try await Self.snapshot(store: store)
    while true {
      let size = Terminal.size(1) ?? (80, 24)
      Terminal.write(TopScreen.frame(snapshot, width: size.columns, height: size.rows))
      if RawMode.isQuit(screen.readKeys(timeout: interval)) { break }
      snapshot = try await Self.snapshot(store: store)
    }
  }

  struct JSONReport: Encodable {
    var time: Double
    var queues: [TopSnapshot.Queue]
    var workers: [TopSnapshot.Worker]
    var failures: [TopSnapshot.Failure]
    var datasets: [TopSnapshot.Dataset]
  }

  /// The queue's snapshot plus the newest datasets' progress.
  static func snapshot(store: JobStore) async throws -> TopSnapshot {
    var snapshot = try await TopSource.snapshot(store: store)
    let recent = try await DatasetStore(client: store.client).progressRecent(limit: datasetLimit)
    snapshot.datasets = recent.map { record, progress in
      TopSnapshot.Dataset(
        name: record.name, items: progress.items,
        stages: progress.byStage.map {
          TopSnapshot.Dataset.Stage(
            name: $0.stage, done: $0.done, total: $0.total, failed: $0.failed)
        },
        statuses: ["pending", "ok", "duplicate", "filtered", "bad"].compactMap { status in
          let count = progress.count(status)
          return count > 0 ? (status, count) : nil
        })
    }
    return snapshot
  }
}
