import Foundation
import JobQueue
import Postgres
import PostgresTesting
import Testing
import TrolleyBasics
import TrolleyWorkers

/// A kind that runs in batches of up to 5 and fails the jobs whose payload says so.
struct BatchProbeJob: JobKind {
  struct Payload: Decodable, Sendable { var fail: Bool }
  struct Result: Encodable, Sendable { var batchSize: Int }
  static let name = "test.batch-probe"
  var maxBatchSize: Int { 5 }
  let sizes: SizeLog

  final class SizeLog: @unchecked Sendable {
    private let lock = NSLock()
    private var sizes: [Int] = []
    func append(_ size: Int) { lock.withLock { sizes.append(size) } }
    var all: [Int] { lock.withLock { sizes } }
  }

  func run(_ payload: Payload, context: JobContext) async throws -> Result {
    Result(batchSize: 1)
  }

  func run(batch: [(payload: Payload, context: JobContext)]) async -> [Swift.Result<
    Result, any Error
  >] {
    sizes.append(batch.count)
    return batch.map { item in
      item.payload.fail
        ? .failure(JobFailure(.permanent, "probe failure"))
        : .success(Result(batchSize: batch.count))
    }
  }
}

/// Sleeps `ms` and records how many probe jobs ran at once (the most seen), to show what the
/// worker ran side by side.
struct ConcurrencyProbeJob: JobKind {
  struct Payload: Decodable, Sendable { var ms: Int }
  struct Result: Encodable, Sendable {}
  static let name = "test.concurrency-probe"
  let gauge: Gauge

  final class Gauge: @unchecked Sendable {
    private let lock = NSLock()
    private var now = 0
    private var most = 0
    func enter() {
      lock.withLock {
        now += 1
        most = max(most, now)
      }
    }
    func leave() { lock.withLock { now -= 1 } }
    var peak: Int { lock.withLock { most } }
  }

  func run(_ payload: Payload, context: JobContext) async throws -> Result {
    gauge.enter()
    defer { gauge.leave() }
    try await context.sleep(for: .milliseconds(payload.ms))
    return Result()
  }
}

/// Runs a worker loop in the background of a test and exposes its events.
final class WorkerHarness: Sendable {
  let loop: WorkerLoop
  let events: AsyncStream<WorkerEvent>
  private let continuation: AsyncStream<WorkerEvent>.Continuation

  init(
    store: JobStore, kinds: [KindRunner], configuration: WorkerConfiguration,
    metrics: WorkerMetrics? = nil
  ) {
    let (events, continuation) = AsyncStream.makeStream(of: WorkerEvent.self)
    self.events = events
    self.continuation = continuation
    loop = WorkerLoop(
      store: store, kinds: kinds, configuration: configuration, metrics: metrics,
      observe: { continuation.yield($0) })
  }

  /// Runs `body` while the loop runs; then shuts the loop down gracefully and waits for it.
  func running<T: Sendable>(_ body: @Sendable (WorkerHarness) async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
      group.addTask {
        try await self.loop.run()
        return nil
      }
      let value = try await body(self)
      loop.beginShutdown()
      while let next = try await group.next() { if next != nil { break } }
      return value
    }
  }

  /// Waits (at most 60 s, never asserting on how long) for an event matching `predicate`.
  func wait(for what: String, _ predicate: @escaping @Sendable (WorkerEvent) -> Bool) async throws {
    let found = await withTaskGroup(of: Bool.self) { group in
      group.addTask {
        for await event in self.events where predicate(event) { return true }
        return false
      }
      group.addTask {
        try? await Task.sleep(for: .seconds(60))
        return false
      }
      let first = await group.next() ?? false
      group.cancelAll()
      return first
    }
    try #require(found, "the worker never reported: \(what)")
  }

  /// Waits for a claim: of job `id`, or of any job.
  func waitForClaim(of id: Int64? = nil) async throws {
    try await wait(for: "the claim") { event in
      guard case .claimed(let jobs) = event else { return false }
      return id.map { id in jobs.contains { $0.id == id } } ?? true
    }
  }
}

struct WorkerLoopTests {
  /// Enqueues one `kind` job with `payload` (JSON text); its id.
  static func insert(_ store: JobStore, _ kind: String, _ payload: String) async throws -> Int64 {
    try #require(
      try await store.jobInsert(.init(kind: kind, payload: PostgresJSONB(text: payload))).id)
  }

  /// One ten-minute sleep job and a worker that runs only sleeps: a job that is still running
  /// whenever the test acts on it (cancel, shutdown).
  static func sleeperHarness(_ store: JobStore, configuration: WorkerConfiguration) async throws
    -> (id: Int64, harness: WorkerHarness)
  {
    let id = try await insert(store, "sleep", #"{"ms": 600000}"#)
    return (
      id, WorkerHarness(store: store, kinds: [KindRunner(SleepJob())], configuration: configuration)
    )
  }

  static func acknowledged(_ ids: Set<Int64>) -> @Sendable (WorkerEvent) -> Bool {
    let seen = Seen()
    return { event in
      guard case .acknowledged(let result) = event else { return false }
      return seen.add(result.applied.keys.filter { ids.contains($0) }) == ids.count
    }
  }

  final class Seen: @unchecked Sendable {
    private let lock = NSLock()
    private var ids: Set<Int64> = []
    func add(_ more: [Int64]) -> Int {
      lock.withLock {
        ids.formUnion(more)
        return ids.count
      }
    }
  }

  @Test func runsEveryKindToItsOutcomeAndRetries() async throws {
    try await withTestDatabase { database in
      let store = JobStore(client: database.client)
      var ids: [Int64] = []
      for _ in 0..<20 {
        ids.append(try #require(try await store.jobInsert(.init(kind: "noop")).id))
      }
      let sleeper = try await Self.insert(store, "sleep", #"{"ms": 20}"#)
      let flaky = try await Self.insert(store, "fail", #"{"succeedOnAttempt": 2}"#)
      let broken = try await Self.insert(store, "fail", #"{"permanent": true}"#)
      let garbage = try await Self.insert(store, "sleep", #"{"ms": "soon"}"#)
      let firstAttempts = Set(ids + [sleeper, flaky, broken, garbage])
      let harness = WorkerHarness(
        store: store,
        kinds: [KindRunner(NoopJob()), KindRunner(SleepJob()), KindRunner(FailJob())],
        configuration: .init(concurrency: 4, pollInterval: .milliseconds(100)))
      try await harness.running { harness in
        try await harness.wait(
          for: "every first attempt", Self.acknowledged(firstAttempts))
        // The flaky job is retrying; make it due and let the worker pick it up again.
        #expect(try await store.jobGet(id: flaky)?.state == .retrying)
        try await store.jobPromoteDue(.init(now: Date().addingTimeInterval(60)))
        try await harness.wait(for: "the retry", Self.acknowledged([flaky]))
      }
      for id in ids + [sleeper, flaky] {
        #expect(try await store.jobGet(id: id)?.state == .succeeded)
      }
      let dead = try #require(try await store.jobGet(id: broken))
      #expect(dead.state == .dead && dead.errorCount == 1)
      let invalid = try #require(try await store.jobGet(id: garbage))
      #expect(invalid.state == .dead)
      #expect(invalid.lastError?.contains("invalid payload") == true)
      #expect(try await store.jobGet(id: flaky)?.attempt == 2)
    }
  }

  @Test func batchKindsGetBatchesAndPerJobOutcomes() async throws {
    try await withTestDatabase { database in
      let store = JobStore(client: database.client)
      let rows = (0..<12).map { index in
        JobInsertRow(
          kind: BatchProbeJob.name, payload: PostgresJSONB(text: #"{"fail": \#(index == 3)}"#))
      }
      _ = try await store.jobInsertMany(.init(), rows: rows)
      let log = BatchProbeJob.SizeLog()
      let harness = WorkerHarness(
        store: store, kinds: [KindRunner(BatchProbeJob(sizes: log))],
        configuration: .init(concurrency: 12, pollInterval: .milliseconds(100)))
      let counts = Seen()
      try await harness.running { harness in
        try await harness.wait(for: "12 outcomes") { event in
          guard case .acknowledged(let result) = event else { return false }
          return counts.add(Array(result.applied.keys)) == 12
        }
      }
      #expect(log.all.reduce(0, +) == 12)
      #expect(log.all.allSatisfy { $0 <= 5 })
      #expect(log.all.contains { $0 > 1 })
      let claimed = try await store.jobClaim(.init(limit: 20, workerID: 1))
      #expect(claimed.isEmpty)
    }
  }

  @Test func cancellingARunningJobStopsItAtTheNextHeartbeat() async throws {
    try await withTestDatabase { database in
      let store = JobStore(client: database.client)
      let (id, harness) = try await Self.sleeperHarness(
        store,
        configuration: .init(
          heartbeatInterval: .milliseconds(100), lease: .seconds(5),
          pollInterval: .milliseconds(100)))
      try await harness.running { harness in
        try await harness.waitForClaim(of: id)
        let cancel = try await store.jobCancel(.init(ids: [id]))
        #expect(cancel.requested == 1)
        try await harness.wait(for: "the cancel acknowledgement", Self.acknowledged([id]))
      }
      #expect(try await store.jobGet(id: id)?.state == .cancelled)
    }
  }

  @Test func gracefulShutdownHandsBackUnfinishedJobs() async throws {
    try await withTestDatabase { database in
      let store = JobStore(client: database.client)
      let (id, harness) = try await Self.sleeperHarness(
        store,
        configuration: .init(gracePeriod: .milliseconds(50), pollInterval: .milliseconds(100)))
      try await harness.running { harness in
        try await harness.waitForClaim()
      }
      let record = try #require(try await store.jobGet(id: id))
      #expect(record.state == .available)
      #expect(record.crashCount == 0 && record.errorCount == 0)
      // The worker marked itself stopped: heartbeats for it are refused.
      let workerID = try #require(harness.loop.workerID)
      #expect(try await store.workerHeartbeat(id: workerID) == false)
    }
  }

  @Test func anIdleWorkerWakesOnNotify() async throws {
    try await withTestDatabase { database in
      let store = JobStore(client: database.client)
      // A one-hour poll: only the NOTIFY from the enqueue can wake the worker in time.
      let harness = WorkerHarness(
        store: store, kinds: [KindRunner(NoopJob())],
        configuration: .init(pollInterval: .seconds(3600)))
      try await harness.running { harness in
        try await harness.wait(for: "registration") { event in
          if case .registered = event { return true }
          return false
        }
        // Let the first (empty) claim pass and the listener connect; then the worker idles.
        try await Task.sleep(for: .milliseconds(300))
        let id = try #require(try await store.jobInsert(.init(kind: "noop")).id)
        try await harness.wait(for: "the woken claim", Self.acknowledged([id]))
      }
    }
  }

  @Test func pollOnlyWorkersStillFindWork() async throws {
    try await withTestDatabase { database in
      let store = JobStore(client: database.client)
      let harness = WorkerHarness(
        store: store, kinds: [KindRunner(NoopJob())],
        configuration: .init(pollInterval: .milliseconds(50), pollOnly: true))
      try await harness.running { harness in
        let id = try #require(try await store.jobInsert(.init(kind: "noop")).id)
        try await harness.wait(for: "the polled claim", Self.acknowledged([id]))
      }
    }
  }

  /// Memory-aware capacity: a worker with two slots but a memory budget for one declared job
  /// claims one, and the next only when the first has finished (what it holds counts against
  /// the budget); with a budget for both it runs them side by side.
  @Test func aWorkerClaimsOnlyWhatFitsItsMemoryBudgetBesideWhatItHolds() async throws {
    for (budget, together) in [(1000 as Int64, 1), (1200, 2)] {
      try await withTestDatabase { database in
        let store = JobStore(client: database.client)
        var inserted: Set<Int64> = []
        for _ in 0..<2 {
          inserted.insert(
            try #require(
              try await store.jobInsert(
                .init(
                  kind: ConcurrencyProbeJob.name,
                  payload: PostgresJSONB(text: #"{"ms": 300, "memory_bytes": 600}"#))
              ).id))
        }
        let ids = inserted
        let gauge = ConcurrencyProbeJob.Gauge()
        let harness = WorkerHarness(
          store: store, kinds: [KindRunner(ConcurrencyProbeJob(gauge: gauge))],
          configuration: .init(
            concurrency: 2, pollInterval: .milliseconds(50), memoryLimit: budget))
        try await harness.running { harness in
          try await harness.wait(for: "both outcomes", Self.acknowledged(ids))
        }
        #expect(gauge.peak == together, "budget \(budget)")
        for id in ids { #expect(try await store.jobGet(id: id)?.state == .succeeded) }
      }
    }
  }

  @Test func kindNamesAreUnique() {
    #expect(Set(AllKinds.names).count == AllKinds.names.count)
    #expect(AllKinds.names == ["noop", "sleep", "fail", "crash"])
  }
}
