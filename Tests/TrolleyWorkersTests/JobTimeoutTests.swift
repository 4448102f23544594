import Foundation
import JobQueue
import Postgres
import PostgresTesting
import Testing
import TrolleyWorkers

/// Per-job timeouts: a job past its limit fails with a retryable "timed out after N s", its slot
/// serves the next job, and the worker keeps running.
struct JobTimeoutTests {
  /// Sleeps without ever looking at its context: only the worker's grace period frees its slot.
  struct StubbornJob: JobKind {
    struct Payload: Decodable, Sendable { var ms: Int }
    struct Result: Encodable, Sendable {}
    static let name = "test.stubborn"

    func run(_ payload: Payload, context: JobContext) async throws -> Result {
      try? await Task.sleep(for: .milliseconds(payload.ms))
      return Result()
    }
  }

  private static func sleep(_ payload: String, maxAttempts: Int32 = 5) -> JobInsertParams {
    JobInsertParams(kind: "sleep", payload: PostgresJSONB(text: payload), maxAttempts: maxAttempts)
  }

  /// Enqueues a noop and waits until the worker has acknowledged it: proof that a slot is free.
  private static func runNextJob(_ store: JobStore, on harness: WorkerHarness) async throws
    -> Int64
  {
    let next = try #require(try await store.jobInsert(.init(kind: "noop")).id)
    try await harness.wait(for: "the next job", WorkerLoopTests.acknowledged([next]))
    return next
  }

  @Test func aJobPastItsTimeoutFailsRetryablyAndTheWorkerKeepsServing() async throws {
    try await withTestDatabase { database in
      let store = JobStore(client: database.client)
      let slow = try #require(try await store.jobInsert(Self.sleep(#"{"ms": 600000}"#)).id)
      // The payload's limit wins over the worker's; on the last attempt the timeout ends it dead.
      let overridden = try #require(
        try await store.jobInsert(
          Self.sleep(#"{"ms": 600000, "timeout_seconds": 0.25}"#, maxAttempts: 1)
        ).id)
      let harness = WorkerHarness(
        store: store, kinds: [KindRunner(SleepJob()), KindRunner(NoopJob())],
        configuration: .init(
          concurrency: 1, pollInterval: .milliseconds(100), jobTimeout: .milliseconds(400)))
      try await harness.running { harness in
        try await harness.wait(
          for: "both timeouts", WorkerLoopTests.acknowledged([slow, overridden]))
        // One slot: the next job runs only because the timed-out ones gave theirs back.
        let next = try await Self.runNextJob(store, on: harness)
        #expect(try await store.jobGet(id: next)?.state == .succeeded)
      }
      let retrying = try #require(try await store.jobGet(id: slow))
      #expect(retrying.state == .retrying)
      #expect(retrying.attempt == 1 && retrying.errorCount == 1)
      #expect(retrying.lastError == "timed out after 0.4 s")
      let dead = try #require(try await store.jobGet(id: overridden))
      #expect(dead.state == .dead)
      #expect(dead.lastError == "timed out after 0.25 s")
    }
  }

  @Test func aJobThatIgnoresItsTimeoutLosesItsSlotAfterTheGracePeriod() async throws {
    try await withTestDatabase { database in
      let store = JobStore(client: database.client)
      let stubborn = try #require(
        try await store.jobInsert(
          .init(kind: StubbornJob.name, payload: PostgresJSONB(text: #"{"ms": 600000}"#))
        ).id)
      let harness = WorkerHarness(
        store: store, kinds: [KindRunner(StubbornJob()), KindRunner(NoopJob())],
        configuration: .init(
          concurrency: 1, gracePeriod: .milliseconds(50), pollInterval: .milliseconds(100),
          jobTimeout: .milliseconds(200), timeoutGrace: .milliseconds(200)))
      try await harness.running { harness in
        try await harness.wait(
          for: "the recorded timeout", WorkerLoopTests.acknowledged([stubborn]))
        #expect(harness.loop.runningCount == 0)
        // The stubborn job still sleeps; the single slot serves the next job anyway.
        _ = try await Self.runNextJob(store, on: harness)
      }
      let record = try #require(try await store.jobGet(id: stubborn))
      #expect(record.state == .retrying)
      #expect(record.lastError == "timed out after 0.2 s")
    }
  }

  @Test func anInvalidPayloadTimeoutEndsTheJobDead() async throws {
    try await withTestDatabase { database in
      let store = JobStore(client: database.client)
      var ids: [Int64] = []
      for timeout in ["-1", "0", #""soon""#, "true", "9999999"] {
        ids.append(
          try #require(
            try await store.jobInsert(Self.sleep(#"{"ms": 1, "timeout_seconds": \#(timeout)}"#)).id)
        )
      }
      // Null or nested: no limit of its own, the job runs normally.
      let unset = try #require(
        try await store.jobInsert(
          Self.sleep(#"{"ms": 1, "timeout_seconds": null, "metadata": {"timeout_seconds": -5}}"#)
        ).id)
      let all = Set(ids + [unset])
      let harness = WorkerHarness(
        store: store, kinds: [KindRunner(SleepJob())],
        configuration: .init(concurrency: 4, pollInterval: .milliseconds(100)))
      try await harness.running { harness in
        try await harness.wait(
          for: "every outcome", WorkerLoopTests.acknowledged(all))
      }
      for id in ids {
        let record = try #require(try await store.jobGet(id: id))
        #expect(record.state == .dead, "job \(id)")
        #expect(record.lastError?.contains("timeout_seconds must be a number") == true)
      }
      #expect(try await store.jobGet(id: unset)?.state == .succeeded)
    }
  }
}
