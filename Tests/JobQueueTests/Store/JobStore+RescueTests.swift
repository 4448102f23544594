import Foundation
import JobQueue
import Postgres
import PostgresTesting
import Testing

struct JobStoreRescueTests {
  @Test func crashBudgetQuarantinesWithEvidence() async throws {
    try await withQueueFactory { factory, store in
      let id = try await factory.insert(maxAttempts: 10, maxCrashes: 2)
      var now = Date(timeIntervalSince1970: 2_000_000_000)
      // First crash: back to available, the error budget untouched.
      _ = try await factory.claim(id, lease: .seconds(30), now: now)
      now = now.addingTimeInterval(31)
      #expect(
        try await store.jobRescueExpired(.init(now: now)) == [RescuedJob(id: id, state: .available)]
      )
      var record = try await factory.record(id)
      #expect(record.crashCount == 1 && record.errorCount == 0)
      // Second crash: quarantined.
      _ = try await factory.claim(id, lease: .seconds(30), now: now)
      now = now.addingTimeInterval(31)
      #expect(
        try await store.jobRescueExpired(.init(now: now)) == [RescuedJob(id: id, state: .dead)])
      record = try await factory.record(id)
      #expect(record.state == .dead)
      #expect(record.lastError?.contains("quarantined") == true)
      let evidence = try await store.jobCrashes(jobID: id)
      #expect(evidence.map(\.attempt) == [1, 2])
      #expect(evidence.allSatisfy { $0.host == "test-host" && $0.pid == 4242 })
      #expect(evidence.allSatisfy { $0.workerID == factory.workerID && $0.claimedAt != nil })
    }
  }

  @Test func rescueNeverOverwritesACompletedJob() async throws {
    try await withQueueFactory { factory, store in
      let id = try await factory.insert()
      let job = try await factory.claim(id, lease: .seconds(1))
      try await store.jobComplete(JobCompletion(job, .succeeded(result: PostgresJSONB(text: "{}"))))
      let rescued = try await store.jobRescueExpired(.init(now: Date().addingTimeInterval(3600)))
      #expect(rescued.isEmpty)
      #expect(try await factory.state(id) == .succeeded)
    }
  }

  @Test func rescueLeavesLiveLeasesAlone() async throws {
    try await withQueueFactory { factory, _ in
      let id = try await factory.insert()
      _ = try await factory.claim(id, lease: .seconds(300))
      #expect(
        try await factory.store.jobRescueExpired(.init(now: Date().addingTimeInterval(60))).isEmpty)
      #expect(try await factory.state(id) == .running)
    }
  }

  @Test func staleWorkersLoseTheirLeasesToTheRescuer() async throws {
    try await withQueueFactory { factory, store in
      let id = try await factory.insert()
      _ = try await factory.claim(id, lease: .seconds(3600))
      let now = Date().addingTimeInterval(120)
      let sweep = try await store.workerSweepStale(.init(staleAfter: .seconds(60), now: now))
      #expect(sweep.staleWorkers == [factory.workerID])
      #expect(sweep.expiredLeases == 1)
      #expect(try await store.jobRescueExpired(.init(now: now)).map(\.id) == [id])
      // A stale worker that heartbeats again is active again.
      #expect(try await store.workerHeartbeat(id: factory.workerID))
      try await store.workerStop(id: factory.workerID)
      #expect(try await store.workerHeartbeat(id: factory.workerID) == false)
    }
  }
}
