import ArgumentParser
import Foundation
import TrolleyBench
import TrolleyWorkers

/// `trolley bench queue`: the queue's enqueue, claim+complete and pickup figures next to the raw
/// SQL ceiling, on a database of its own.
struct BenchQueue: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "queue",
    abstract: "Measure the queue: COPY enqueue, claim+complete, pickup latency, vs raw SQL.",
    discussion: """
      Creates a database of its own on the configured server (dropped afterwards), so it never \
      touches real jobs. Every throughput figure is shown with the raw ceiling measured in the \
      same run (a bare COPY; a plain CTE + SKIP LOCKED claim then UPDATE by id) and their ratio.

      Examples:
        trolley bench queue
        trolley bench queue --json --scale 0.1
        trolley bench queue --workers 4 --claim-sizes 100
      """)

  @Flag(help: "Print the report as JSON.")
  var json = false

  @Option(help: "Multiply every job count by this (0.01 for a quick smoke run).")
  var scale: Double = 1

  @Option(help: "Pickup-latency samples.")
  var samples: Int = 200

  @Option(
    help: ArgumentHelp(
      "Worker counts for claim+complete, comma-separated.", valueName: "n,n,..."))
  var workers: String = "1,4,8"

  @Option(
    help: ArgumentHelp(
      "Claim sizes (each worker's concurrency) for claim+complete, comma-separated.",
      valueName: "n,n,..."))
  var claimSizes: String = "1,10,100"

  @OptionGroup var database: DatabaseOptions

  func validate() throws {
    guard scale > 0 && scale <= 100 else {
      throw ValidationError("--scale must be within (0, 100]")
    }
    guard samples >= 10 else { throw ValidationError("--samples must be at least 10") }
    _ = try Self.counts(workers, option: "--workers", maximum: 64)
    _ = try Self.counts(claimSizes, option: "--claim-sizes", maximum: 1000)
  }

  /// "1,4,8" as [1, 4, 8]; each between 1 and `maximum`.
  static func counts(_ text: String, option: String, maximum: Int) throws -> [Int] {
    try CommaSeparated.integers(text, option: option, in: 1...maximum)
  }

  func run() async throws {
    var configuration = QueueBenchmark.Configuration()
    configuration.scale = scale
    configuration.latencySamples = samples
    configuration.workerCounts = try Self.counts(workers, option: "--workers", maximum: 64)
    configuration.claimSizes = try Self.counts(claimSizes, option: "--claim-sizes", maximum: 1000)
    let quiet = json
    let benchmark = QueueBenchmark(
      server: try database.resolve(), configuration: configuration,
      progress: { line in
        if !quiet { print(line) } else { printError(line) }
      })
    let report = try await benchmark.run()
    if json {
      try printEncodedJSON(report)
    } else {
      print(
        "database \(report.database) (dropped), PostgreSQL \(report.serverVersion / 10000)."
          + "\(report.serverVersion % 10000)")
    }
  }
}
