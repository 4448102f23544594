import Foundation
import JobQueue
import Logging
import Migrations
public import Postgres
import Synchronization
import TrolleyBasics
import TrolleyWorkers

/// `trolley bench queue`: the queue's throughput and latency, measured on a database of its own
/// next to the raw SQL ceiling on the same server in the same run.
///
/// - Enqueue: `jobInsertMany` (one streamed COPY) against a bare `COPY jobs` of the same rows.
/// - Claim+complete: `WorkerLoop`s running no-op jobs (1, 4, 8 workers; claim sizes 1, 10, 100)
///   against plain SQL claim-then-complete loops (a CTE with SKIP LOCKED, then UPDATE by id).
/// - Pickup: an idle worker's latency from the start of an enqueue call to the claim, p50/p99.
public struct QueueBenchmark: Sendable {
  public struct Configuration: Sendable {
    /// Jobs per enqueue measurement. Default 200,000.
    public var enqueueJobs: Int = 200_000
    /// Worker counts. Default 1, 4, 8.
    public var workerCounts: [Int] = [1, 4, 8]
    /// Claim sizes (each worker's concurrency). Default 1, 10, 100.
    public var claimSizes: [Int] = [1, 10, 100]
    /// Jobs burned down per run, by claim size (about 2-4 s each on 2 cores).
    public var jobsPerClaimSize: [Int: Int] = [1: 4000, 10: 20_000, 100: 60_000]
    /// Pickup samples. Default 200.
    public var latencySamples: Int = 200
    /// Multiplies every job count (0.01 for a smoke run).
    public var scale: Double = 1

    public init() {}

    func jobs(_ count: Int) -> Int { max(10, Int((Double(count) * scale).rounded())) }
  }

  /// One throughput figure next to its raw ceiling.
  public struct Throughput: Sendable, Encodable, Hashable {
    public var workers: Int?
    public var claimSize: Int?
    public var jobs: Int
    public var jobsPerSecond: Double
    public var ceilingJobsPerSecond: Double
    /// This process's CPU time (user + system) per job: the client side, which shares the
    /// machine with the server.
    public var clientMicrosecondsPerJob: Double?
    public var ceilingClientMicrosecondsPerJob: Double?
    public var ratio: Double { ceilingJobsPerSecond > 0 ? jobsPerSecond / ceilingJobsPerSecond : 0 }

    enum CodingKeys: String, SnakeCaseCodingKey {
      case workers, claimSize, jobs, jobsPerSecond, ceilingJobsPerSecond, ratio
      case clientMicrosecondsPerJob = "client_cpu_us_per_job"
      case ceilingClientMicrosecondsPerJob = "ceiling_client_cpu_us_per_job"
    }

    public func encode(to encoder: any Encoder) throws {
      var container = encoder.container(keyedBy: CodingKeys.self)
      try container.encodeIfPresent(workers, forKey: .workers)
      try container.encodeIfPresent(claimSize, forKey: .claimSize)
      try container.encode(jobs, forKey: .jobs)
      try container.encode(jobsPerSecond.rounded(), forKey: .jobsPerSecond)
      try container.encode(ceilingJobsPerSecond.rounded(), forKey: .ceilingJobsPerSecond)
      try container.encode((ratio * 1000).rounded() / 1000, forKey: .ratio)
      try container.encodeIfPresent(
        clientMicrosecondsPerJob.map { ($0 * 10).rounded() / 10 }, forKey: .clientMicrosecondsPerJob
      )
      try container.encodeIfPresent(
        ceilingClientMicrosecondsPerJob.map { ($0 * 10).rounded() / 10 },
        forKey: .ceilingClientMicrosecondsPerJob)
    }
  }

  /// Pickup latency of an idle worker.
  public struct Pickup: Sendable, Encodable, Hashable {
    public var samples: Int
    public var p50Milliseconds: Double
    public var p99Milliseconds: Double
    public var pollOnly: Bool

    enum CodingKeys: String, SnakeCaseCodingKey {
      case samples, pollOnly
      case p50Milliseconds = "p50_ms"
      case p99Milliseconds = "p99_ms"
    }
  }

  /// Everything one run measured.
  public struct Report: Sendable, Encodable, Hashable {
    public var database: String
    public var serverVersion: Int
    public var enqueue: Throughput
    public var claimComplete: [Throughput]
    public var pickup: Pickup

    enum CodingKeys: String, SnakeCaseCodingKey {
      case database, serverVersion, enqueue, claimComplete, pickup
    }
  }

  public let server: PostgresConfiguration
  public let configuration: Configuration
  let progress: @Sendable (String) -> Void

  /// - Parameters:
  ///   - server: where to create the benchmark's own database.
  ///   - configuration: sizes.
  ///   - progress: receives one line per finished measurement.
  public init(
    server: PostgresConfiguration, configuration: Configuration = .init(),
    progress: @escaping @Sendable (String) -> Void = { _ in }
  ) {
    self.server = server
    self.configuration = configuration
    self.progress = progress
  }

  /// Creates the database, measures, drops the database.
  public func run() async throws -> Report {
    try await BenchDatabase.with(server: server, prefix: "trolley_bench", maximumConnections: 2) {
      scratch in
      try await measure(in: scratch)
    }
  }

  private func measure(in scratch: BenchDatabase) async throws -> Report {
    let (name, database, setup) = (scratch.name, scratch.configuration, scratch.setup)
    let store = JobStore(client: scratch.client)

    let enqueue = try await measureEnqueue(store: store, setup: setup)
    progress(Self.line(enqueue, label: "enqueue (COPY)"))
    var claims: [Throughput] = []
    for size in configuration.claimSizes {
      for workers in configuration.workerCounts {
        let jobs = configuration.jobs(configuration.jobsPerClaimSize[size] ?? 20_000)
        let rawCPU = Self.processCPUSeconds()
        let raw = try await measureBaseline(
          database: database, store: store, setup: setup, workers: workers, claimSize: size,
          jobs: jobs)
        let oursCPU = Self.processCPUSeconds()
        let ours = try await measureWorkers(
          database: database, store: store, setup: setup, workers: workers, claimSize: size,
          jobs: jobs)
        let end = Self.processCPUSeconds()
        // Each span includes one fill (a bare COPY of the jobs), the same in both.
        let result = Throughput(
          workers: workers, claimSize: size, jobs: jobs, jobsPerSecond: ours,
          ceilingJobsPerSecond: raw, clientMicrosecondsPerJob: (end - oursCPU) * 1e6 / Double(jobs),
          ceilingClientMicrosecondsPerJob: (oursCPU - rawCPU) * 1e6 / Double(jobs))
        claims.append(result)
        progress(Self.line(result, label: "claim+complete"))
      }
    }
    let pickup = try await measurePickup(database: database, store: store, setup: setup)
    progress(
      "pickup latency  p50 \(Self.format(pickup.p50Milliseconds, digits: 2)) ms  p99 "
        + "\(Self.format(pickup.p99Milliseconds, digits: 2)) ms  (\(pickup.samples) samples)")
    return Report(
      database: name, serverVersion: setup.serverVersion, enqueue: enqueue, claimComplete: claims,
      pickup: pickup)
  }

  // MARK: - Measurements

  private func measureEnqueue(store: JobStore, setup: PostgresConnection) async throws
    -> Throughput
  {
    let count = configuration.jobs(configuration.enqueueJobs)
    try store.baselineReset(on: setup)
    let clock = ContinuousClock()
    let rawStart = clock.now
    let rawCPU = Self.processCPUSeconds()
    try store.baselineCopy(queue: "bench-enqueue", count: count, on: setup)
    let raw = rawStart.duration(to: clock.now)
    let rawClient = Self.processCPUSeconds() - rawCPU
    try store.baselineReset(on: setup)
    let payload = PostgresJSONB(text: "{}")
    let rows = (0..<count).lazy.map { _ in
      JobInsertRow(queue: "bench-enqueue", kind: "noop", payload: payload)
    }
    let start = clock.now
    let cpu = Self.processCPUSeconds()
    let result = try store.jobInsertMany(.init(), rows: rows, on: setup)
    let ours = start.duration(to: clock.now)
    let client = Self.processCPUSeconds() - cpu
    precondition(result.added == count, "the benchmark's enqueue lost rows")
    return Throughput(
      jobs: count, jobsPerSecond: Double(count) / ours.seconds,
      ceilingJobsPerSecond: Double(count) / raw.seconds,
      clientMicrosecondsPerJob: client * 1e6 / Double(count),
      ceilingClientMicrosecondsPerJob: rawClient * 1e6 / Double(count))
  }

  /// Fills the queue with `jobs` bench jobs; returns the start of the timed part, just after.
  private func fill(_ store: JobStore, setup: PostgresConnection, jobs: Int) throws
    -> ContinuousClock.Instant
  {
    try store.baselineReset(on: setup)
    try store.baselineCopy(queue: "bench", count: jobs, on: setup)
    try store.baselineAnalyze(on: setup)
    return .now
  }

  private func measureBaseline(
    database: PostgresConfiguration, store: JobStore, setup: PostgresConnection, workers: Int,
    claimSize: Int, jobs: Int
  ) async throws -> Double {
    let start = try fill(store, setup: setup, jobs: jobs)
    let done = try await withThrowingTaskGroup(of: Int.self) { group in
      for _ in 0..<workers {
        group.addTask {
          let client = PostgresClient(configuration: database, maximumConnections: 1)
          defer { client.shutdown() }
          return try await client.withConnection { connection in
            var worked = 0
            while true {
              let ids = try store.baselineClaim(queue: "bench", limit: claimSize, on: connection)
              if ids.isEmpty { return worked }
              try store.baselineComplete(ids: ids, on: connection)
              worked += ids.count
            }
          }
        }
      }
      return try await group.reduce(0, +)
    }
    precondition(done == jobs, "the raw ceiling worked \(done) of \(jobs) jobs")
    return Double(jobs) / start.duration(to: .now).seconds
  }

  private func measureWorkers(
    database: PostgresConfiguration, store: JobStore, setup: PostgresConnection, workers: Int,
    claimSize: Int, jobs: Int
  ) async throws -> Double {
    let start = try fill(store, setup: setup, jobs: jobs)
    let acknowledged = Tally()
    let (finished, finish) = AsyncStream.makeStream(of: Void.self)
    let elapsed = await BenchWorkers.run(
      count: workers, database: database,
      loop: { client in
        WorkerLoop(
          store: JobStore(client: client), kinds: [KindRunner(NoopJob())],
          configuration: WorkerConfiguration(
            ackBatchSize: max(100, claimSize), concurrency: claimSize,
            pollInterval: .milliseconds(200), queues: ["bench"], version: "bench"),
          logger: BenchWorkers.logger,
          observe: { event in
            guard case .acknowledged(let result) = event else { return }
            let total = acknowledged.add(result.applied.count)
            if total >= jobs { finish.yield() }
          })
      },
      until: {
        for await _ in finished { break }
        return start.duration(to: .now)
      })
    return Double(jobs) / elapsed.seconds
  }

  private func measurePickup(
    database: PostgresConfiguration, store: JobStore, setup: PostgresConnection
  ) async throws -> Pickup {
    try store.baselineReset(on: setup)
    let (claims, claimed) = AsyncStream.makeStream(of: (Int64, ContinuousClock.Instant).self)
    let (registrations, registered) = AsyncStream.makeStream(of: Void.self)
    let client = PostgresClient(configuration: database, maximumConnections: 3)
    defer { client.shutdown() }
    let loop = WorkerLoop(
      store: JobStore(client: client), kinds: [KindRunner(NoopJob())],
      configuration: WorkerConfiguration(
        concurrency: 1, pollInterval: .seconds(1), queues: ["bench-pickup"], version: "bench"),
      logger: BenchWorkers.logger,
      observe: { event in
        switch event {
        case .claimed(let jobs): for job in jobs { claimed.yield((job.id, .now)) }
        case .registered: registered.yield()
        default: break
        }
      })
    let warmUp = 5
    let samples = max(10, configuration.latencySamples)
    var latencies: [Double] = []
    try await withThrowingTaskGroup(of: Void.self) { group in
      group.addTask { try await loop.run() }
      for await _ in registrations { break }
      var iterator = claims.makeAsyncIterator()
      for index in 0..<(warmUp + samples) {
        // Let the worker go idle (waiting on its notification) before each enqueue.
        try await Task.sleep(for: .milliseconds(index < warmUp ? 100 : 8))
        let before = ContinuousClock.now
        let id = try await store.jobInsert(.init(queue: "bench-pickup", kind: "noop")).id
        while let (claimedID, at) = await iterator.next() {
          if claimedID == id {
            if index >= warmUp { latencies.append(before.duration(to: at).seconds * 1000) }
            break
          }
        }
      }
      group.cancelAll()
    }
    latencies.sort()
    return Pickup(
      samples: latencies.count, p50Milliseconds: latencies[latencies.count / 2],
      p99Milliseconds: latencies[Int((Double(latencies.count - 1) * 0.99).rounded(.up))],
      pollOnly: false)
  }

  /// CPU time (user + system) this process has used, in seconds.
  static func processCPUSeconds() -> Double { CPUClock.process() }

  // MARK: - Formatting

  static func line(_ throughput: Throughput, label: String) -> String {
    var text = label
    if let workers = throughput.workers, let size = throughput.claimSize {
      text += "  workers \(workers)  claim \(size)"
    }
    return text + "  \(throughput.jobs) jobs  \(format(throughput.jobsPerSecond, digits: 0)) jobs/s"
      + "  raw \(format(throughput.ceilingJobsPerSecond, digits: 0)) jobs/s"
      + "  ratio \(format(throughput.ratio, digits: 2))"
      + (throughput.clientMicrosecondsPerJob.map { ours in
        "  client CPU \(format(ours, digits: 1)) µs/job"
          + (throughput.ceilingClientMicrosecondsPerJob.map { " (raw \(format($0, digits: 1)))" }
            ?? "")
      } ?? "")
  }

  static func format(_ value: Double, digits: Int) -> String {
    String(format: "%.\(digits)f", value)
  }
}

/// Jobs acknowledged across the benchmark's workers (shared by their observers).
private final class Tally: Sendable {
  private let count = Mutex(0)

  /// Adds `more` and returns the new total.
  func add(_ more: Int) -> Int {
    count.withLock { count in
      count += more
      return count
    }
  }
}
