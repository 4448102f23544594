import Curation
import Datasets
import Foundation
import JobQueue
import Logging
import Migrations
public import Postgres
import TrolleyBasics
import TrolleyWorkers

/// `trolley bench dedupe`: the batch dedupe's time at each size, its memory, and the incremental
/// lookup's latency against a large band index, on a database of its own (dropped afterwards).
///
/// - Dedupe: synthetic items (pHash values and sha256 strings; no pixels) COPied in as kept
///   items, 5 % of them planted in groups of five (the base, an exact copy, and three hashes one
///   or two bits from the base; every other hash is uniform), then the real dedupe chain run by
///   in-process `WorkerLoop`s. Timed from the plan to the groups job's success; the planted groups
///   must come back exactly.
/// - Check: a smaller set deduped the same way and compared with a brute-force all-pairs answer.
/// - Lookup: the band index of many uniform hashes COPied in, one row per bucket, then `lookup` at
///   the index's own distance and at a wider one (probing every value within ⌊d/k⌋ bits).
public struct DedupeBenchmark: Sendable {
  public struct Configuration: Sendable {
    public var sizes: [Int] = [100_000, 1_000_000]
    public var workers = 2
    public var distance = 4
    public var checkItems = 20_000
    public var lookupHashes = 10_000_000
    public var lookupQueries = 1_000
    public var wideDistance = 10
    public var wideQueries = 100
    public init() {}
  }

  public struct DedupeRun: Sendable, Encodable {
    public var items: Int
    public var jobs: Int
    public var seconds: Double
    public var groups: Int
    public var exact: Int
    public var near: Int
    /// The planted groups came back exactly (and nothing else was grouped).
    public var plantedExactly: Bool
    /// Peak RSS of this process (the generator, the client and the in-process workers) during
    /// the run.
    public var peakRSSBytes: Int
    /// PostgreSQL temporary-file bytes the run wrote.
    public var serverTempBytes: Int64
  }

  public struct Check: Sendable, Encodable {
    public var items: Int
    public var agrees: Bool
    public var groups: Int
  }

  public struct LookupRun: Sendable, Encodable {
    public var storedHashes: Int
    public var distance: Int
    public var probes: Int
    public var queries: Int
    public var p50Milliseconds: Double
    public var p95Milliseconds: Double
    public var meanMatches: Double
  }

  public struct Report: Sendable, Encodable {
    public var serverVersion: Int
    public var distance: Int
    public var workers: Int
    public var check: Check?
    public var runs: [DedupeRun]
    public var lookupBuildSeconds: Double?
    public var lookups: [LookupRun]
  }

  public let server: PostgresConfiguration
  public let configuration: Configuration
  public let progress: @Sendable (String) -> Void

  public init(
    server: PostgresConfiguration, configuration: Configuration,
    progress: @escaping @Sendable (String) -> Void = { _ in }
  ) {
    self.server = server
    self.configuration = configuration
    self.progress = progress
  }

  public func run() async throws -> Report {
    try await BenchDatabase.with(
      server: server, prefix: "trolley_bench_dedupe", maximumConnections: 4
    ) { scratch in
      try await measure(in: scratch)
    }
  }

  private func measure(in scratch: BenchDatabase) async throws -> Report {
    let (database, setup) = (scratch.configuration, scratch.setup)
    let store = DatasetStore(client: scratch.client)

    var report = Report(
      serverVersion: setup.serverVersion, distance: configuration.distance,
      workers: configuration.workers, check: nil, runs: [], lookupBuildSeconds: nil, lookups: [])
    if configuration.checkItems > 0 {
      report.check = try await check(database: database, store: store, setup: setup)
      if let check = report.check {
        progress(
          "check: \(check.items) items, \(check.groups) groups, brute force agrees: \(check.agrees)"
        )
      }
    }
    for size in configuration.sizes {
      let run = try await dedupe(size: size, database: database, store: store, setup: setup)
      report.runs.append(run)
      progress(
        "dedupe \(run.items) items: \(Self.format(run.seconds, 2)) s, \(run.jobs) jobs, "
          + "\(run.groups) groups (\(run.exact) exact, \(run.near) near), planted exactly: "
          + "\(run.plantedExactly), peak RSS \(run.peakRSSBytes >> 20) MiB, server temp "
          + "\(run.serverTempBytes >> 20) MiB")
    }
    if configuration.lookupHashes > 0 {
      let (build, lookups) = try lookups(store: store, setup: setup)
      report.lookupBuildSeconds = build
      report.lookups = lookups
    }
    return report
  }

  // MARK: - Synthetic items

  /// SplitMix64's first draw from seed `x`: a fixed, seedable stream, so every run plants the
  /// same groups.
  static func mix(_ x: UInt64) -> UInt64 {
    var generator = SplitMix64(seed: x)
    return generator.next()
  }

  /// Item `i`'s sha256 and pHash, and its planted group (i / 100 when i % 100 < 5).
  static func item(_ i: Int) -> (sha: String, hash: UInt64, group: Int?) {
    let g = i / 100
    let j = i % 100
    func sha(_ n: Int) -> String {
      (0..<4).map { k in
        let digits = String(mix(UInt64(n) &* 4 &+ UInt64(k) &+ 0xABCD), radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
      }.joined()
    }
    guard j < 5 else { return (sha(i), mix(UInt64(i) ^ 0x5555_0000_0000), nil) }
    let base = mix(UInt64(g) ^ 0x1234_5678_0000_0000)
    let bits = mix(UInt64(g) ^ 0xFEDC_0000)
    let a = bits & 63
    let b = (a + 1 + (bits >> 8) % 62) & 63
    let c = (b + 1 + (bits >> 16) % 20) & 63
    switch j {
    case 0: return (sha(i), base, g)
    case 1: return (sha(i - 1), base, g)
    case 2: return (sha(i), base ^ (1 << a), g)
    case 3: return (sha(i), base ^ (1 << a) ^ (1 << b), g)
    default: return (sha(i), base ^ (1 << c), g)
    }
  }

  /// COPies `count` synthetic kept items into a new dataset; returns its id.
  func fill(store: DatasetStore, setup: PostgresConnection, name: String, count: Int) async throws
    -> Int64
  {
    let dataset = try await store.datasetCreate(name: name)
    try setup.copyFrom(
      "COPY dataset_item (dataset_id, source, sha256, width, height, format, bytes, phash, status) FROM STDIN",
      name: "benchFillItems"
    ) { writer in
      let id = String(dataset.id)
      for i in 0..<count {
        let (sha, hash, _) = Self.item(i)
        try writer.writeRow([
          id, "bench/\(i)", sha, "640", "480", "jpeg", "100000", String(Int64(bitPattern: hash)),
          "ok",
        ])
      }
    }
    try setup.execute("ANALYZE dataset_item", name: "benchAnalyzeItems")
    return dataset.id
  }

  /// Plans the dedupe chain and runs it with in-process workers; returns the plan and seconds.
  func runChain(database: PostgresConfiguration, store: DatasetStore, dataset: String)
    async throws -> (DatasetPlanner.DedupePlan, Double)
  {
    let queue = "bench-dedupe"
    let clock = ContinuousClock()
    let start = clock.now
    let plan = try await DatasetPlanner(
      store: store, jobs: JobStore(client: store.client), queue: queue
    )
    .dedupe(dataset: dataset, hash: .phash, distance: configuration.distance)
    let workers = configuration.workers
    // nil: the groups job succeeded.
    let failure: String? = await BenchWorkers.run(
      count: workers, database: database,
      loop: { client in
        let settings = CurationJobSettings(
          store: DatasetStore(client: client), fetcher: ImageFetcher())
        return WorkerLoop(
          store: JobStore(client: client),
          kinds: [KindRunner(CurateDedupeJob(settings: settings))],
          configuration: WorkerConfiguration(
            ackBatchSize: 1, concurrency: 1, pollInterval: .milliseconds(50), queues: [queue],
            version: "bench"),
          logger: BenchWorkers.logger)
      },
      until: {
        while true {
          let state = try? await store.client.query(
            "SELECT state::text FROM jobs WHERE id = $1", [plan.jobID]
          ).first?.decode(0, as: String.self)
          if state == "succeeded" { return nil }
          if state == "dead" || state == "cancelled" || state == nil {
            return "the groups job \(plan.jobID) ended \(state ?? "missing")"
          }
          try? await Task.sleep(for: .milliseconds(50))
        }
      })
    let seconds = start.duration(to: clock.now).seconds
    if let failure {
      let errors = try await store.client.query(
        "SELECT id, last_error FROM jobs WHERE kind = 'curate.dedupe' AND last_error IS NOT NULL ORDER BY id DESC LIMIT 3"
      ).map { try $0.decode((Int64, String).self) }
      throw DedupeBenchmarkError(message: "bench dedupe: \(failure); last errors: \(errors)")
    }
    return (plan, seconds)
  }

  func dedupe(
    size: Int, database: PostgresConfiguration, store: DatasetStore, setup: PostgresConnection
  ) async throws -> DedupeRun {
    progress("filling \(size) synthetic items ...")
    let name = "bench-\(size)"
    let datasetID = try await fill(store: store, setup: setup, name: name, count: size)
    let tempBefore = try Self.tempBytes(setup)
    Self.resetPeakRSS()
    let (plan, seconds) = try await runChain(database: database, store: store, dataset: name)
    let peak = Self.peakRSS()
    let tempAfter = try Self.tempBytes(setup)
    // Planted: every group i / 100 (i % 100 < 5) is one group of five; nothing else grouped.
    var planted: [Int64: Set<Int>] = [:]
    var grouped = 0
    for row in try setup.query(
      "SELECT group_id, source FROM dataset_item WHERE dataset_id = $1 AND group_id IS NOT NULL",
      [datasetID], name: "benchGroups")
    {
      let (group, source) = try row.decode((Int64, String).self)
      grouped += 1
      let index = Int(source.dropFirst("bench/".count)) ?? -1
      planted[group, default: []].insert(index % 100 < 5 ? index / 100 : -1 - index)
    }
    // Sizes are whole hundreds: size / 100 groups of five.
    let expectedGroups = size / 100
    let exactly =
      planted.count == expectedGroups && planted.values.allSatisfy { $0.count == 1 }
      && grouped == expectedGroups * 5
    let (exact, near) = try setup.query(
      "SELECT count(*) FILTER (WHERE reason = 'exact')::bigint, count(*) FILTER (WHERE reason = 'near')::bigint FROM dataset_item WHERE dataset_id = $1",
      [datasetID], name: "benchVerdicts"
    ).single().decode((Int64, Int64).self)
    try setup.execute("DELETE FROM dataset_bucket", name: "benchClearBuckets")
    return DedupeRun(
      items: size, jobs: plan.jobs, seconds: seconds, groups: planted.count, exact: Int(exact),
      near: Int(near), plantedExactly: exactly, peakRSSBytes: peak,
      serverTempBytes: tempAfter - tempBefore)
  }

  /// Dedupes `checkItems` items and compares the groups with a brute-force all-pairs answer:
  /// exact copies by sha256 (keeper: most pixels, then lowest id), then every pair of kept
  /// hashes within d, joined transitively.
  func check(database: PostgresConfiguration, store: DatasetStore, setup: PostgresConnection)
    async throws -> Check
  {
    let count = configuration.checkItems
    let datasetID = try await fill(store: store, setup: setup, name: "bench-check", count: count)
    _ = try await runChain(database: database, store: store, dataset: "bench-check")
    var items: [BruteForceGroups.Item] = []
    var actual: [Int64: [Int64]] = [:]
    for row in try setup.query(
      "SELECT id, sha256, width::bigint * height, phash, group_id FROM dataset_item WHERE dataset_id = $1 ORDER BY id",
      [datasetID], name: "benchCheckItems")
    {
      let (id, sha, pixels, hash, group) = try row.decode(
        (Int64, String, Int64, Int64, Int64?).self)
      items.append(
        BruteForceGroups.Item(id: id, sha256: sha, pixels: pixels, hash: UInt64(bitPattern: hash)))
      if let group { actual[group, default: []].append(id) }
    }
    let expected = BruteForceGroups.groups(items, distance: configuration.distance)
    let found = actual.values.map { $0.sorted() }.sorted { $0[0] < $1[0] }
    return Check(items: count, agrees: expected == found, groups: found.count)
  }

  // MARK: - Lookup

  /// Builds the band index of `lookupHashes` uniform hashes (one band at a time, sorted, COPied in
  /// index order), then times lookups at the layout's distance and at the wide distance.
  func lookups(store: DatasetStore, setup: PostgresConnection) throws -> (Double, [LookupRun]) {
    let count = configuration.lookupHashes
    let layout = BandLayout(distance: configuration.distance)
    let datasetID = try setup.query(
      "INSERT INTO dataset (name) VALUES ('bench-lookup') RETURNING id", name: "benchLookupDataset"
    ).single().decode(0, as: Int64.self)
    func stored(_ i: Int) -> UInt64 { Self.mix(UInt64(i) ^ 0x7777_0000_0000_0000) }
    progress("building the band index of \(count) hashes (\(layout.count) bands) ...")
    let clock = ContinuousClock()
    let start = clock.now
    var keys = [UInt64](repeating: 0, count: count)
    for band in 0..<layout.count {
      for i in 0..<count {
        keys[i] = UInt64(layout.value(stored(i), band: band)) << 40 | UInt64(i + 1)
      }
      keys.sort()
      let prefix = "\(datasetID)\t\(band)\t"
      try setup.copyFrom(
        "COPY dataset_bucket (dataset_id, band, value, item_ids, hashes) FROM STDIN",
        name: "benchFillBuckets"
      ) { writer in
        // One row per run of equal keys: the bucket's ids and hashes as array literals.
        var start = 0
        while start < count {
          let value = keys[start] >> 40
          var end = start
          var ids = "{"
          var hashes = "{"
          while end < count && keys[end] >> 40 == value {
            let id = Int(keys[end] & ((1 << 40) - 1))
            if end > start {
              ids += ","
              hashes += ","
            }
            ids += String(id)
            hashes += String(Int64(bitPattern: stored(id - 1)))
            end += 1
          }
          try writer.write((prefix + "\(value)\t\(ids)}\t\(hashes)}\n").utf8)
          start = end
        }
      }
      progress("  band \(band) written")
    }
    keys = []
    try setup.execute("ANALYZE dataset_bucket", name: "benchAnalyzeBuckets")
    let build = start.duration(to: clock.now).seconds
    progress("band index built in \(Self.format(build, 1)) s")

    var runs: [LookupRun] = []
    var random = UInt64(42)
    for (distance, queries) in [
      (configuration.distance, configuration.lookupQueries),
      (configuration.wideDistance, configuration.wideQueries),
    ] where queries > 0 {
      var latencies: [Double] = []
      var matches = 0
      let warm = min(50, queries)
      for q in 0..<(warm + queries) {
        random = Self.mix(random)
        // Half the queries are a stored hash with up to d bits flipped, half are uniform.
        var query = random
        if q % 2 == 0 {
          query = stored(Int(random % UInt64(count)))
          for f in 0..<(q / 2 % (distance + 1)) {
            query ^= 1 << ((random >> (8 * UInt64(f % 7))) & 63)
          }
        }
        let begin = clock.now
        let found = try store.lookup(
          datasetID: datasetID, hash: query, distance: distance, layout: layout, on: setup)
        let elapsed = begin.duration(to: clock.now).seconds * 1000
        if q >= warm {
          latencies.append(elapsed)
          matches += found.count
        }
      }
      latencies.sort()
      let run = LookupRun(
        storedHashes: count, distance: distance,
        probes: layout.probes(0, distance: distance).count, queries: queries,
        p50Milliseconds: latencies[latencies.count / 2],
        p95Milliseconds: latencies[min(latencies.count - 1, latencies.count * 95 / 100)],
        meanMatches: Double(matches) / Double(queries))
      runs.append(run)
      progress(
        "lookup d=\(distance) against \(count) hashes: p50 \(Self.format(run.p50Milliseconds, 2)) ms, p95 \(Self.format(run.p95Milliseconds, 2)) ms (\(run.probes) probes, \(queries) warm queries)"
      )
    }
    return (build, runs)
  }

  // MARK: - Measures

  static func tempBytes(_ connection: PostgresConnection) throws -> Int64 {
    _ = try? connection.query("SELECT pg_stat_force_next_flush()", name: "benchFlushStats")
    return try connection.query(
      "SELECT coalesce(sum(temp_bytes), 0)::bigint FROM pg_stat_database", name: "benchTempBytes"
    ).single().decode(0, as: Int64.self)
  }

  /// Resets this process's peak RSS (Linux: "5" to /proc/self/clear_refs).
  static func resetPeakRSS() {
    try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
  }

  /// This process's peak RSS in bytes (VmHWM), 0 where /proc is missing.
  static func peakRSS() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else {
      return 0
    }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
      let digits = line.split(separator: " ").compactMap { Int($0) }
      return (digits.first ?? 0) * 1024
    }
    return 0
  }

  static func format(_ value: Double, _ digits: Int) -> String {
    String(format: "%.\(digits)f", value)
  }
}

/// A benchmark run that could not finish, with what went wrong.
struct DedupeBenchmarkError: Error, CustomStringConvertible {
  var message: String
  var description: String { message }
}
