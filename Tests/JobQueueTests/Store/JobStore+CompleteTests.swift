import Foundation
import JobQueue
import Postgres
import PostgresTesting
import Testing
import TrolleyBasics

struct JobStoreCompleteTests {
  @Test func successStoresTheResult() async throws {
    try await withQueueFactory { factory, _ in
      let id = try await factory.insert()
      let job = try await factory.claim(id)
      let state = try await factory.store.jobComplete(
        JobCompletion(job, .succeeded(result: PostgresJSONB(text: #"{"answer": 42}"#))))
      #expect(state == .succeeded)
      let record = try await factory.record(id)
      #expect(try record.result?.decode([String: Int].self) == ["answer": 42])
      #expect(record.finishedAt != nil)
      #expect(record.leaseToken == nil)
    }
  }

  @Test func retryableErrorsBackOffUntilTheBudgetIsSpent() async throws {
    try await withQueueFactory { factory, store in
      let id = try await factory.insert(maxAttempts: 3)
      var now = Date(timeIntervalSince1970: 2_000_000_000)
      let policy = RetryPolicy(base: .seconds(10), maximum: .seconds(100), jitter: 0)
      for attempt in 1...3 {
        let job = try await factory.claim(id, now: now)
        #expect(job.attempt == Int32(attempt))
        #expect(job.errorCount == Int32(attempt - 1))
        let delay = policy.delay(afterError: Int(job.errorCount) + 1)
        let state = try await store.jobCompleteMany(
          .init(
            completions: [
              JobCompletion(job, .failed(error: "timeout \(attempt)", retryDelay: delay))
            ],
            now: now)
        ).applied[id]
        let record = try await factory.record(id)
        #expect(record.lastError == "timeout \(attempt)")
        if attempt < 3 {
          #expect(state == .retrying)
          #expect(
            abs(record.runAt.timeIntervalSince(now) - delay.components.seconds.double) < 0.001)
          // Not due yet: the scheduler leaves it alone.
          #expect(try await store.jobPromoteDue(.init(now: now.addingTimeInterval(1))) == 0)
          now = record.runAt
          #expect(try await store.jobPromoteDue(.init(now: now)) == 1)
          #expect(try await factory.state(id) == .available)
        } else {
          #expect(state == .dead)
          #expect(record.errorCount == 3)
          #expect(record.finishedAt != nil)
        }
      }
    }
  }

  @Test func permanentErrorGoesDeadAtOnce() async throws {
    try await withQueueFactory { factory, _ in
      let id = try await factory.insert(maxAttempts: 10)
      let job = try await factory.claim(id)
      let state = try await factory.store.jobComplete(
        JobCompletion(job, .failedPermanently(error: "image is not a JPEG or PNG")))
      #expect(state == .dead)
      let record = try await factory.record(id)
      #expect(record.lastError == "image is not a JPEG or PNG")
      #expect(record.errorCount == 1)
    }
  }

  @Test func zombieCompletionIsRejectedAndChangesNothing() async throws {
    try await withQueueFactory { factory, store in
      let id = try await factory.insert()
      let zombie = try await factory.claim(id, lease: .seconds(30))
      // The zombie's lease expires; the rescuer hands the job to someone else.
      let later = Date().addingTimeInterval(120)
      let rescued = try await store.jobRescueExpired(.init(now: later))
      #expect(rescued.map(\.id) == [id])
      let heir = try await factory.claim(id, now: later)
      #expect(heir.leaseToken > zombie.leaseToken)
      // The zombie wakes up and reports: rejected, nothing changes.
      await #expect(throws: JobQueueError(.leaseLost, "")) {
        try await store.jobComplete(
          JobCompletion(zombie, .succeeded(result: PostgresJSONB(text: #"{"by": "zombie"}"#))))
      }
      let beat = try await store.jobHeartbeatMany(
        .init(entries: [.init(id: id, leaseToken: zombie.leaseToken)]))
      #expect(beat.lost == [id])
      #expect(try await factory.state(id) == .running)
      // The heir's result is the one that counts.
      try await store.jobComplete(
        JobCompletion(heir, .succeeded(result: PostgresJSONB(text: #"{"by": "heir"}"#))))
      #expect(try await factory.record(id).result?.decode([String: String].self) == ["by": "heir"])
      // And the zombie still cannot overwrite it.
      let late = try await store.jobCompleteMany(
        .init(completions: [JobCompletion(zombie, .failedPermanently(error: "late"))]))
      #expect(late.rejected == [id])
      #expect(try await factory.state(id) == .succeeded)
    }
  }

  @Test func handBackChargesNoBudget() async throws {
    try await withQueueFactory { factory, _ in
      let id = try await factory.insert()
      let job = try await factory.claim(id)
      #expect(try await factory.store.jobComplete(JobCompletion(job, .handedBack)) == .available)
      let record = try await factory.record(id)
      #expect(record.errorCount == 0 && record.crashCount == 0)
      #expect(record.finishedAt == nil)
    }
  }

  @Test func heartbeatExtendsLeasesAndCarriesProgress() async throws {
    try await withQueueFactory { factory, _ in
      let id = try await factory.insert()
      let start = Date(timeIntervalSince1970: 2_000_000_000)
      let job = try await factory.claim(id, lease: .seconds(30), now: start)
      // Hours of heartbeats keep a healthy job leased.
      var now = start
      for _ in 0..<360 {
        now = now.addingTimeInterval(20)
        let beat = try await factory.store.jobHeartbeatMany(
          .init(
            entries: [.init(id: id, leaseToken: job.leaseToken, progress: 0.5)],
            lease: .seconds(30), now: now))
        #expect(beat.extended == [id])
        #expect(
          try await factory.store.jobRescueExpired(.init(now: now.addingTimeInterval(29))).isEmpty)
      }
      let record = try await factory.record(id)
      #expect(record.progress == 0.5)
      #expect(record.state == .running)
    }
  }
}

extension Int64 {
  var double: Double { Double(self) }
}
