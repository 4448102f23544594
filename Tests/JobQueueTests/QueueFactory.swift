import Foundation
import JobQueue
import Postgres
import PostgresTesting
import Testing

/// Runs `body` against a fresh migrated database with one registered worker, handing it the
/// factory and its store: the setup most store tests open with.
func withQueueFactory(_ body: (QueueFactory, JobStore) async throws -> Void) async throws {
  try await withTestDatabase { database in
    let factory = try await QueueFactory.make(database)
    try await body(factory, factory.store)
  }
}

/// Builds jobs in a given state through the public store API (river's testfactory, but through
/// the real statements so the counters and invariants hold).
struct QueueFactory {
  let store: JobStore
  let workerID: Int64

  static func make(_ database: TestDatabase) async throws -> QueueFactory {
    let store = JobStore(client: database.client)
    let worker = try await store.workerRegister(
      .init(
        host: "test-host", pid: 4242, version: "test", queues: ["default"], kinds: ["noop"],
        capacity: 8))
    return QueueFactory(store: store, workerID: worker)
  }

  func insert(
    kind: String = "noop", queue: String = "default", payload: String = "{}",
    priority: Int16 = 0, runAt: Date? = nil, maxAttempts: Int32 = 5, maxCrashes: Int32 = 3,
    batchID: Int64? = nil, uniqueKey: String? = nil, dependsOn: [Int64] = []
  ) async throws -> Int64 {
    let result = try await store.jobInsert(
      .init(
        queue: queue, kind: kind, payload: PostgresJSONB(text: payload), priority: priority,
        runAt: runAt, maxAttempts: maxAttempts, maxCrashes: maxCrashes, batchID: batchID,
        uniqueKey: uniqueKey, dependsOn: dependsOn))
    return try #require(result.id)
  }

  /// Claims exactly the job `id` (it must be the only available one in its queue).
  func claim(
    _ id: Int64, queue: String = "default", lease: Duration = .seconds(30), now: Date? = nil
  )
    async throws -> ClaimedJob
  {
    let jobs = try await store.jobClaim(
      .init(queue: queue, limit: 1, workerID: workerID, lease: lease, now: now))
    let job = try #require(jobs.first)
    try #require(job.id == id, "claimed job \(job.id), expected \(id)")
    return job
  }

  /// Claims exactly the job `id` from `queue` and reports a permanent failure: a dependency
  /// that ends dead.
  func failForGood(_ id: Int64, queue: String, error: String) async throws
    -> JobCompleteManyResult
  {
    let job = try await claim(id, queue: queue)
    return try await store.jobCompleteMany(
      .init(completions: [JobCompletion(job, .failedPermanently(error: error))]))
  }

  /// Expects job `id` cancelled because its dependency ended `ended` ("dead" or "cancelled"),
  /// with the last error naming that dependency.
  func expectCancelled(
    _ id: Int64, by dependency: Int64, ended: String,
    sourceLocation: SourceLocation = #_sourceLocation
  ) async throws {
    let record = try await self.record(id)
    #expect(record.state == .cancelled, sourceLocation: sourceLocation)
    #expect(
      record.lastError == "cancelled: dependency \(dependency) ended \(ended)",
      sourceLocation: sourceLocation)
  }

  /// A job in `state`, made by walking the edges.
  func job(in state: JobState, queue: String? = nil, batchID: Int64? = nil) async throws
    -> Int64
  {
    // A queue of its own, so the claims below take exactly this job.
    let queue = queue ?? "factory-\(UUID().uuidString)"
    switch state {
    case .available:
      return try await insert(queue: queue, batchID: batchID)
    case .scheduled:
      return try await insert(
        queue: queue, runAt: Date().addingTimeInterval(3600), batchID: batchID)
    case .waiting:
      let blocker = try await insert(queue: "blockers")
      return try await insert(queue: queue, batchID: batchID, dependsOn: [blocker])
    case .running:
      let id = try await insert(queue: queue, batchID: batchID)
      _ = try await claim(id, queue: queue)
      return id
    case .retrying, .succeeded, .dead, .cancelled:
      let id = try await insert(queue: queue, batchID: batchID)
      let job = try await claim(id, queue: queue)
      let outcome: JobOutcome =
        switch state {
        case .retrying: .failed(error: "boom", retryDelay: .seconds(3600))
        case .succeeded: .succeeded(result: PostgresJSONB(text: #"{"ok": true}"#))
        case .dead: .failedPermanently(error: "bad input")
        default: .cancelled(reason: "test")
        }
      let reached = try await store.jobComplete(JobCompletion(job, outcome))
      try #require(reached == state)
      return id
    }
  }

  func state(_ id: Int64) async throws -> JobState? {
    try await store.jobGet(id: id)?.state
  }

  func record(_ id: Int64) async throws -> JobRecord {
    try #require(try await store.jobGet(id: id))
  }
}
