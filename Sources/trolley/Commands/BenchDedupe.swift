import ArgumentParser
import Foundation
import TrolleyBench

/// `trolley bench dedupe`: batch dedupe time per size, its memory, and incremental lookup latency.
struct BenchDedupe: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "dedupe",
    abstract: "Measure dedupe time at 100k and 1M items and lookup p50/p95 against 10M hashes.",
    discussion: """
      Creates a database of its own on the configured server (dropped afterwards). Synthetic \
      items (pHash and sha256 only) are COPied in, 5% planted in groups of five, and the real \
      curate.dedupe chain runs on in-process workers; the planted groups must come back \
      exactly, and a smaller set is checked against a brute-force answer. Then a band index of \
      --lookup-hashes uniform hashes is built and single-hash lookups are timed (warm). The \
      big runs take GBs of disk: use a throw-away server (TROLLEY_HOME=$(mktemp -d) trolley db \
      start) and nice.

      Examples:
        trolley bench dedupe --sizes 10000 --lookup-hashes 100000 --check-items 2000
        nice -n 10 trolley bench dedupe --json
      """)

  @Option(help: ArgumentHelp("Dataset sizes, whole hundreds, comma-separated.", valueName: "n,n"))
  var sizes = "100000,1000000"

  @Option(help: "In-process workers sharing the dedupe jobs.")
  var workers = 2

  @Option(help: "Hamming distance d (the band index has d + 1 bands).")
  var distance = 4

  @Option(help: "Items of the brute-force check (0 skips it).")
  var checkItems = 20_000

  @Option(help: "Hashes in the lookup's band index (0 skips the lookup).")
  var lookupHashes = 10_000_000

  @Option(help: "Timed lookups at --distance.")
  var queries = 1_000

  @Option(help: "The wider lookup distance.")
  var wideDistance = 10

  @Option(help: "Timed lookups at --wide-distance.")
  var wideQueries = 100

  @Flag(help: "Print the report as JSON.")
  var json = false

  @OptionGroup var database: DatabaseOptions

  func validate() throws {
    _ = try parsedSizes()
    guard (1...16).contains(workers) else { throw ValidationError("--workers must be 1 to 16") }
    guard (0...31).contains(distance), (0...31).contains(wideDistance) else {
      throw ValidationError("--distance and --wide-distance must be 0 to 31")
    }
    guard checkItems >= 0, checkItems <= 200_000 else {
      throw ValidationError("--check-items must be 0 to 200000 (the check is all pairs)")
    }
    guard lookupHashes >= 0, lookupHashes < 1 << 40 else {
      throw ValidationError("--lookup-hashes must be 0 to 2^40")
    }
    guard queries >= 1, wideQueries >= 0 else {
      throw ValidationError("--queries must be at least 1 and --wide-queries at least 0")
    }
  }

  /// --sizes: whole hundreds from 100 to 10^8.
  func parsedSizes() throws -> [Int] {
    try CommaSeparated.integers(sizes, option: "--sizes", in: 100...100_000_000, step: 100)
  }

  func run() async throws {
    var configuration = DedupeBenchmark.Configuration()
    configuration.sizes = try parsedSizes()
    configuration.workers = workers
    configuration.distance = distance
    configuration.checkItems = checkItems
    configuration.lookupHashes = lookupHashes
    configuration.lookupQueries = queries
    configuration.wideDistance = wideDistance
    configuration.wideQueries = wideQueries
    let quiet = json
    let report = try await DedupeBenchmark(
      server: try database.resolve(), configuration: configuration,
      progress: { line in
        if !quiet { print(line) } else { printError(line) }
      }
    ).run()
    if json { try printEncodedJSON(report, keys: .convertToSnakeCase) }
  }
}
