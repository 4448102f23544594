import Foundation
import Postgres
import PostgresTesting
import Testing

@testable import JobQueue

/// The races and traps of issue 13 ("nothing lost, nothing stuck"), each against PostgreSQL,
/// with two connections where the race needs them.
struct JobStoreReliabilityTests {
  static let ok = PostgresJSONB(text: "{}")

  /// Waits until some session of this test's database waits for a row lock (the second
  /// connection of a race is then blocked exactly where the race happens), polling on a pooled
  /// connection's own thread.
  static func untilBlockedOnALock(_ database: TestDatabase) async throws {
    try await database.client.withConnection { try untilBlockedOnALock($0) }
  }

  // MARK: - 1. Dependents released in a statement that sees committed edges

  @Test func aDependentEnqueuedWhileItsDependencyCompletesIsReleased() async throws {
    try await withTestDatabase { database in
      let factory = try await QueueFactory.make(database)
      let store = factory.store
      let dependency = try await factory.insert(queue: "shards")
      let job = try await factory.claim(dependency, queue: "shards")
      // Connection A enqueues a dependent inside its own transaction: jobInsert locks the
      // dependency and adds the edge; A commits only once B's completion waits for that lock.
      let enqueuer = try database.connect()
      defer { enqueuer.close() }
      let completer = try database.connect()
      defer { completer.close() }
      let watcher = try database.connect()
      defer { watcher.close() }
      let completion = BlockingCall {
        try store.jobCompleteMany(
          .init(completions: [JobCompletion(job, .succeeded(result: Self.ok))]), on: completer)
      }
      let dependent = try enqueuer.withTransaction { connection -> Int64 in
        let id = try #require(
          try store.jobInsert(.init(kind: "noop", dependsOn: [dependency]), on: connection).id)
        completion.start()
        try Self.untilBlockedOnALock(watcher)
        return id
      }
      let result = try completion.wait()
      #expect(result.applied[dependency] == .succeeded)
      #expect(result.releasedDependents == 1)
      #expect(try await factory.state(dependent) == .available)
    }
  }

  /// Blocking version of `untilBlockedOnALock`, for use inside a transaction's closure (and the
  /// one that polls).
  static func untilBlockedOnALock(_ connection: PostgresConnection) throws {
    for _ in 0..<2400 {
      let waiting = try connection.query(
        """
        SELECT count(*) FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock'
        """
      ).single().decode(0, as: Int64.self)
      if waiting > 0 { return }
      usleep(25_000)
    }
    Issue.record("gave up waiting for a session to wait for a lock")
    throw CancellationError()
  }

  @Test func theReconcilerReleasesWaitingJobsWhoseReleaseWasLost() async throws {
    try await withTestDatabase { database in
      let factory = try await QueueFactory.make(database)
      let store = factory.store
      let first = try await factory.insert(queue: "shards")
      let second = try await factory.insert(queue: "shards")
      let stuck = try await factory.insert(dependsOn: [first, second])
      let doomed = try await factory.insert(dependsOn: [first])
      let chained = try await factory.insert(dependsOn: [doomed])
      // What a process that died between a completion and its settling leaves: the
      // dependencies ended, their dependents were never settled.
      try await database.client.withConnection { connection in
        try connection.query(
          "UPDATE jobs SET state = 'succeeded', finished_at = now() WHERE id = ANY($1)",
          [[first, second]])
      }
      #expect(try await factory.state(stuck) == .waiting)
      let reconciler = DependencyReconciler(store: store, configuration: .init(limit: 1))
      let settled = try await reconciler.runOnce()
      #expect(settled.released == 2)  // `stuck`, and `doomed` whose only dependency succeeded
      #expect(try await factory.state(stuck) == .available)
      #expect(try await factory.state(doomed) == .available)
      #expect(try await factory.state(chained) == .waiting)
      // A waiting job under a dead dependency nobody settled is cancelled, with its chain.
      let dead = try await factory.job(in: .dead)
      let orphan = try await factory.insert(dependsOn: [dead])
      #expect(try await factory.state(orphan) == .cancelled)
      let blocker = try await factory.insert(queue: "blockers-2")
      let late = try await factory.insert(dependsOn: [blocker])
      try await database.client.withConnection { connection in
        try connection.query(
          "UPDATE jobs SET state = 'dead', finished_at = now() WHERE id = $1", [blocker])
      }
      let second2 = try await reconciler.runOnce()
      #expect(second2.cancelled == 1)
      try await factory.expectCancelled(late, by: blocker, ended: "dead")
    }
  }

  // MARK: - 2. Unstorable results

  @Test func anUnstorableResultFailsOnlyItsOwnJob() async throws {
    try await withQueueFactory { factory, store in
      for _ in 0..<4 { _ = try await factory.insert(queue: "answers") }
      let jobs = try await store.jobClaim(
        .init(queue: "answers", limit: 4, workerID: factory.workerID))
      try #require(jobs.count == 4)
      // A tokenizer emitted byte 0 (JSONEncoder writes it as \u0000, which jsonb rejects); the
      // escaped backslash in the same string must stay as it is.
      let nul = try PostgresJSONB(encoding: ["answer": "a\u{0}b \\u0000"])
      // Bytes that are not UTF-8 cannot be stored at all.
      let garbage = PostgresJSONB(
        bytes: Array(#"{"answer": ""#.utf8) + [0xFF, 0xFE] + Array(#""}"#.utf8))
      let result = try await store.jobCompleteMany(
        .init(completions: [
          JobCompletion(jobs[0], .succeeded(result: nul)),
          JobCompletion(jobs[1], .succeeded(result: garbage)),
          JobCompletion(jobs[2], .succeeded(result: Self.ok)),
          JobCompletion(jobs[3], .failed(error: "tokenizer said \u{0}", retryDelay: .seconds(60))),
        ]))
      #expect(result.applied[jobs[0].id] == .succeeded)
      #expect(result.applied[jobs[1].id] == .dead)
      #expect(result.applied[jobs[2].id] == .succeeded)
      #expect(result.applied[jobs[3].id] == .retrying)
      let stored = try await factory.record(jobs[0].id)
      let text = String(decoding: try #require(stored.result).bytes, as: UTF8.self)
      let decoded = try JSONDecoder().decode([String: String].self, from: Data(text.utf8))
      #expect(decoded["answer"] == "a\u{FFFD}b \\u0000")
      let unstorable = try await factory.record(jobs[1].id)
      #expect(unstorable.lastError?.hasPrefix("the job's report could not be stored") == true)
      #expect(unstorable.lastError?.contains("its result") == true)
      #expect(try await factory.record(jobs[3].id).lastError == "tokenizer said ")
    }
  }

  @Test func anAcknowledgementWaitsForARowLockOnlyUntilItsLockTimeout() async throws {
    try await withTestDatabase { database in
      let factory = try await QueueFactory.make(database)
      let store = factory.store
      let id = try await factory.insert(queue: "locked")
      let job = try await factory.claim(id, queue: "locked")
      // An operator's session holds the job's row.
      let holder = try database.connect()
      defer { holder.close() }
      try holder.execute("BEGIN")
      try holder.query("SELECT id FROM jobs WHERE id = $1 FOR UPDATE", [id])
      do {
        _ = try await store.jobCompleteMany(
          .init(
            completions: [JobCompletion(job, .succeeded(result: Self.ok))],
            lockTimeout: .milliseconds(200)))
        Issue.record("the acknowledgement should have given up on the lock")
      } catch let error as PostgresError {
        #expect(error.sqlState == "55P03")
      }
      try holder.execute("ROLLBACK")
      // Retried once the lock is gone, it applies; the session's own setting is untouched.
      let state = try await store.jobComplete(JobCompletion(job, .succeeded(result: Self.ok)))
      #expect(state == .succeeded)
      let setting = try await database.client.withConnection { connection in
        try connection.query("SHOW lock_timeout").single().decode(0, as: String.self)
      }
      #expect(setting == "0")
    }
  }

  @Test func aHeartbeatSkipsARowAnotherSessionHoldsInsteadOfWaiting() async throws {
    try await withTestDatabase { database in
      let factory = try await QueueFactory.make(database)
      let store = factory.store
      for _ in 0..<2 { _ = try await factory.insert(queue: "beat") }
      let jobs = try await store.jobClaim(
        .init(queue: "beat", limit: 2, workerID: factory.workerID))
      try #require(jobs.count == 2)
      let holder = try database.connect()
      defer { holder.close() }
      try holder.execute("BEGIN")
      try holder.query("SELECT id FROM jobs WHERE id = $1 FOR UPDATE", [jobs[0].id])
      let beat = try await store.jobHeartbeatMany(
        .init(entries: jobs.map { .init(id: $0.id, leaseToken: $0.leaseToken) }))
      #expect(beat.extended == [jobs[1].id])
      #expect(beat.busy == [jobs[0].id])
      #expect(beat.lost.isEmpty)
      try holder.execute("ROLLBACK")
      let again = try await store.jobHeartbeatMany(
        .init(entries: jobs.map { .init(id: $0.id, leaseToken: $0.leaseToken) }))
      #expect(again.extended == Set(jobs.map(\.id)))
    }
  }

  // MARK: - 3. Retention keeps results unless asked, and idempotence survives pruning

  @Test func retentionNeverDeletesResultsUnlessAskedAndKeysStayUsed() async throws {
    try await withQueueFactory { factory, store in
      let finished = try await store.batchCreate(.init(name: "finished"))
      let open = try await store.batchCreate(.init(name: "open"))
      let rows = (0..<3).map { JobInsertRow(queue: "r", kind: "noop", uniqueKey: "finished-\($0)") }
      _ = try await store.jobInsertMany(.init(batchID: finished.id), rows: rows)
      let jobs = try await store.jobClaim(.init(queue: "r", limit: 3, workerID: factory.workerID))
      _ = try await store.jobCompleteMany(
        .init(completions: jobs.map { JobCompletion($0, .succeeded(result: Self.ok)) }))
      let openDone = try await factory.job(in: .succeeded, batchID: open.id)
      _ = try await factory.job(in: .available, batchID: open.id)
      let later = Date().addingTimeInterval(30 * 86_400)

      // The default: results are never deleted, whatever their age.
      let byDefault = try await RetentionCleaner(store: store).runOnce(now: later)
      #expect(byDefault.deleted[.succeeded] == nil)
      #expect(try await factory.state(jobs[0].id) == .succeeded)

      // Asked for: only batches with nothing left to run lose their results.
      let asked = try await RetentionCleaner(
        store: store, configuration: .init(succeededAge: .seconds(86_400))
      ).runOnce(now: later)
      #expect(asked.deleted[.succeeded] == 3)
      #expect(try await factory.state(jobs[0].id) == nil)
      #expect(try await factory.state(openDone) == .succeeded)

      // Re-running the enqueue adds nothing: the pruned jobs' keys stay used.
      let again = try await store.jobInsertMany(.init(batchID: finished.id), rows: rows)
      #expect(again.added == 0 && again.skipped == 3)
      let single = try await store.jobInsert(
        .init(kind: "noop", batchID: finished.id, uniqueKey: "finished-0"))
      #expect(single.skipped)
    }
  }

  // MARK: - 4. Staleness from each worker's own lease

  @Test func aWorkerWithALongLeaseIsNotSweptWhileItHeartbeats() async throws {
    try await withTestDatabase { database in
      let store = JobStore(client: database.client)
      let start = Date()
      let patient = try await store.workerRegister(
        .init(
          host: "h", pid: 1, version: "t", queues: ["default"], kinds: ["noop"], capacity: 1,
          lease: .seconds(300), now: start))
      let quick = try await store.workerRegister(
        .init(
          host: "h", pid: 2, version: "t", queues: ["default"], kinds: ["noop"], capacity: 1,
          lease: .seconds(30), now: start))
      // 90 s of silence: more than the 60 s floor and the quick worker's lease, far less than
      // the patient one's (which heartbeats every 100 s).
      let swept = try await store.workerSweepStale(.init(now: start.addingTimeInterval(90)))
      #expect(swept.staleWorkers == [quick])
      let later = try await store.workerSweepStale(.init(now: start.addingTimeInterval(301)))
      #expect(later.staleWorkers == [patient])
    }
  }

  // MARK: - 5. Only the culprit is charged

  @Test func aSuspectRunsAloneAndOnlyForAnIdleWorker() async throws {
    try await withQueueFactory { factory, store in
      let suspect = try await factory.insert(queue: "q")
      let bystander = try await factory.insert(queue: "q")
      let claimed = try await store.jobClaim(
        .init(queue: "q", limit: 2, workerID: factory.workerID, lease: .seconds(1)))
      try #require(claimed.count == 2)
      // The worker dies: both leases expire and both are charged one crash.
      let rescued = try await store.jobRescueExpired(.init(now: Date().addingTimeInterval(60)))
      #expect(rescued.count == 2)
      let fresh = try await factory.insert(queue: "q")
      // A busy worker gets only the job that never crashed.
      let busy = try await store.jobClaim(
        .init(queue: "q", limit: 3, workerID: factory.workerID, holding: 1))
      #expect(busy.map(\.id) == [fresh])
      // An idle worker gets the first suspect, alone.
      let idle = try await store.jobClaim(
        .init(queue: "q", limit: 3, workerID: factory.workerID, holding: 0))
      #expect(idle.map(\.id) == [suspect])
      let next = try await store.jobClaim(
        .init(queue: "q", limit: 3, workerID: factory.workerID, holding: 0))
      #expect(next.map(\.id) == [bystander])
    }
  }

  // MARK: - 6. Cancel vs claim, revival, run_at

  @Test func cancellingABatchReachesAJobClaimedWhileTheCancelRuns() async throws {
    try await withTestDatabase { database in
      let factory = try await QueueFactory.make(database)
      let store = factory.store
      let batch = try await store.batchCreate(.init(name: "cancel-race"))
      let id = try await factory.insert(queue: "race", batchID: batch.id)
      // Connection A claims the job and holds its transaction open.
      let claimer = try database.connect()
      defer { claimer.close() }
      try claimer.execute("BEGIN")
      let claimed = try store.jobClaim(
        .init(queue: "race", limit: 1, workerID: factory.workerID), on: claimer)
      try #require(claimed.map(\.id) == [id])
      // The cancel's statement starts while the job is still available, and waits for A.
      let cancel = Task.detached { try await store.jobCancel(.init(batchID: batch.id)) }
      try await Self.untilBlockedOnALock(database)
      try claimer.execute("COMMIT")
      let result = try await cancel.value
      #expect(result.requested == 1 && result.cancelled == 0)
      let record = try await factory.record(id)
      #expect(record.state == .running)
      #expect(record.cancelRequestedAt != nil)
    }
  }

  @Test func retryingADeadDependencyRevivesTheDependentsItCancelled() async throws {
    try await withQueueFactory { factory, store in
      let shard = try await factory.insert(queue: "shards")
      let healthy = try await factory.insert(queue: "other")
      let broken = try await factory.job(in: .dead)
      let merge = try await factory.insert(dependsOn: [shard, healthy])
      let report = try await factory.insert(dependsOn: [merge])
      let unrelated = try await factory.insert(dependsOn: [shard, broken])
      #expect(try await factory.state(unrelated) == .cancelled)
      let job = try await factory.claim(shard, queue: "shards")
      try await store.jobComplete(JobCompletion(job, .failedPermanently(error: "disk full")))
      #expect(try await factory.state(merge) == .cancelled)
      #expect(try await factory.state(report) == .cancelled)

      #expect(try await store.jobRetry(.init(ids: [shard])) == 1)
      let revived = try await factory.record(merge)
      #expect(revived.state == .waiting)
      #expect(revived.pendingDependencies == 2)
      #expect(revived.finishedAt == nil)
      #expect(try await factory.state(report) == .waiting)
      // Cancelled by another dead dependency: stays cancelled.
      #expect(try await factory.state(unrelated) == .cancelled)

      // The chain runs again.
      let again = try await factory.claim(shard, queue: "shards")
      try await store.jobComplete(JobCompletion(again, .succeeded(result: Self.ok)))
      let other = try await factory.claim(healthy, queue: "other")
      try await store.jobComplete(JobCompletion(other, .succeeded(result: Self.ok)))
      #expect(try await factory.state(merge) == .available)
      #expect(try await factory.state(report) == .waiting)
    }
  }

  @Test func aDependentWaitsForItsRunAtAfterItsDependenciesSucceed() async throws {
    try await withQueueFactory { factory, store in
      let shard = try await factory.insert(queue: "shards")
      let runAt = Date().addingTimeInterval(3600)
      let later = try #require(
        try await store.jobInsert(.init(kind: "noop", runAt: runAt, dependsOn: [shard])).id)
      let job = try await factory.claim(shard, queue: "shards")
      try await store.jobComplete(JobCompletion(job, .succeeded(result: Self.ok)))
      #expect(try await factory.state(later) == .scheduled)
      #expect(try await store.jobPromoteDue(.init()) == 0)
      #expect(try await store.jobPromoteDue(.init(now: runAt.addingTimeInterval(1))) == 1)
      #expect(try await factory.state(later) == .available)
    }
  }
}

/// Runs a blocking call on a thread of its own (a statement that will wait for a lock the test
/// holds), so the test's own thread stays free to release it.
final class BlockingCall<T: Sendable>: @unchecked Sendable {
  private let body: () throws -> T
  private let done = DispatchSemaphore(value: 0)
  private var result: Result<T, any Error>?

  init(_ body: @escaping () throws -> T) { self.body = body }

  func start() {
    let thread = Thread { [self] in
      result = Result { try body() }
      done.signal()
    }
    thread.start()
  }

  func wait() throws -> T {
    done.wait()
    return try result!.get()
  }
}
