import Foundation
import Postgres
import PostgresTesting
import Testing

@testable import JobQueue

struct JobStoreClaimTests {
  @Test func claimsByPriorityThenRunAtThenID() async throws {
    try await withQueueFactory { factory, _ in
      let past = Date().addingTimeInterval(-60)
      let late = try await factory.insert(priority: 5)
      let early = try await factory.insert(priority: 5, runAt: past)
      let urgent = try await factory.insert(priority: -1)
      let plain = try await factory.insert(priority: 5)
      let claimed = try await factory.store.jobClaim(
        .init(limit: 10, workerID: factory.workerID))
      let order = claimed.sorted { ($0.priority, $0.id) < ($1.priority, $1.id) }.map(\.id)
      #expect(Set(order) == [late, early, urgent, plain])
      // One at a time shows the order the index gives.
      for id in [late, early, urgent, plain] {
        _ = try await factory.store.jobComplete(
          JobCompletion(try #require(claimed.first { $0.id == id }), .handedBack))
      }
      var sequence: [Int64] = []
      for _ in 0..<4 {
        sequence += try await factory.store.jobClaim(.init(limit: 1, workerID: factory.workerID))
          .map(\.id)
      }
      #expect(sequence == [urgent, early, late, plain])
    }
  }

  @Test func claimSetsTheLeaseAndCountsTheAttempt() async throws {
    try await withQueueFactory { factory, _ in
      let id = try await factory.insert()
      let now = Date(timeIntervalSince1970: 1_900_000_000)
      let job = try await factory.claim(id, lease: .seconds(45), now: now)
      #expect(job.attempt == 1)
      #expect(abs(job.leaseExpiresAt.timeIntervalSince(now) - 45) < 0.001)
      let record = try await factory.record(id)
      #expect(record.state == .running)
      #expect(record.leaseOwner == factory.workerID)
      #expect(record.leaseToken == job.leaseToken)
      // A second claim finds nothing: the job is leased.
      #expect(try await factory.store.jobClaim(.init(limit: 5, workerID: 1)).isEmpty)
    }
  }

  @Test func filtersByQueueAndKind() async throws {
    try await withQueueFactory { factory, _ in
      let sleepJob = try await factory.insert(kind: "sleep")
      let otherQueue = try await factory.insert(kind: "noop", queue: "bulk")
      let noop = try await factory.insert(kind: "noop")
      let store = factory.store
      let noops = try await store.jobClaim(
        .init(kinds: ["noop"], limit: 10, workerID: factory.workerID))
      #expect(noops.map(\.id) == [noop])
      let bulk = try await store.jobClaim(
        .init(queue: "bulk", limit: 10, workerID: factory.workerID))
      #expect(bulk.map(\.id) == [otherQueue])
      let any = try await store.jobClaim(.init(limit: 10, workerID: factory.workerID))
      #expect(any.map(\.id) == [sleepJob])
    }
  }

  @Test func pausedQueueClaimsNothingUntilResumed() async throws {
    try await withQueueFactory { factory, store in
      let id = try await factory.insert()
      try await store.queuePause(.init(name: "default"))
      #expect(try await store.jobClaim(.init(limit: 10, workerID: factory.workerID)).isEmpty)
      #expect(try await store.queueList().map(\.name) == ["default"])
      #expect(try await store.queueList().first?.pausedAt != nil)
      #expect(try await store.queueResume(.init(name: "default")))
      #expect(try await store.queueResume(.init(name: "default")) == false)
      #expect(
        try await store.jobClaim(.init(limit: 10, workerID: factory.workerID)).map(\.id) == [id])
    }
  }

  @Test func eightConcurrentClaimersNeverShareOrLoseAJob() async throws {
    try await withTestDatabase { database in
      let factory = try await QueueFactory.make(database)
      let batch = try await factory.store.batchCreate(.init(name: "claimers"))
      let total = 20_000
      let added = try await factory.store.jobInsertMany(
        .init(batchID: batch.id), rows: (0..<total).lazy.map { _ in JobInsertRow(kind: "noop") })
      #expect(added.added == total)
      let claims = try await withThrowingTaskGroup(of: [Int64].self) { group in
        for claimer in 0..<8 {
          group.addTask {
            let client = PostgresClient(
              configuration: database.configuration, maximumConnections: 1)
            defer { client.shutdown() }
            let store = JobStore(client: client)
            var mine: [Int64] = []
            while true {
              let jobs = try await store.jobClaim(
                .init(limit: 25 + claimer * 10, workerID: factory.workerID))
              if jobs.isEmpty { return mine }
              mine += jobs.map(\.id)
              let result = try await store.jobCompleteMany(
                .init(
                  completions: jobs.map {
                    JobCompletion($0, .succeeded(result: PostgresJSONB(text: "{}")))
                  }))
              #expect(result.rejected.isEmpty)
            }
          }
        }
        return try await group.reduce(into: [[Int64]]()) { $0.append($1) }
      }
      let all = claims.flatMap { $0 }
      #expect(all.count == total, "claims: \(all.count)")
      #expect(Set(all).count == total, "a job was claimed twice")
      #expect(claims.filter { !$0.isEmpty }.count > 1, "only one claimer got work")
      let progress = try await factory.store.batchProgress(.init(batchID: batch.id))
      #expect(progress.counts[.succeeded] == Int64(total))
      #expect(progress.unfinished == 0)
    }
  }

  /// Memory-aware claims: the declared `memory_bytes` of the jobs claimed, summed in claim order,
  /// plus what the worker holds must fit its budget; jobs declaring nothing count 0.
  @Test func claimsOnlyWhatFitsTheMemoryBudget() async throws {
    try await withQueueFactory { factory, store in
      let first = try await factory.insert(payload: #"{"memory_bytes": 600}"#)
      let second = try await factory.insert(payload: #"{"memory_bytes": 600}"#)
      let plain = try await factory.insert()
      // Room for one: the first and the undeclared job, not the second.
      let claimed = try await store.jobClaim(
        .init(limit: 3, workerID: factory.workerID, memoryLimit: 1000))
      #expect(Set(claimed.map(\.id)) == [first, plain])
      #expect(claimed.first { $0.id == first }?.memoryBytes == 600)
      #expect(claimed.first { $0.id == plain }?.memoryBytes == 0)
      // Holding the first, the worker has no room for the second.
      #expect(
        try await store.jobClaim(
          .init(
            limit: 3, workerID: factory.workerID, holding: 2, memoryLimit: 1000,
            memoryHeld: 600)
        ).isEmpty)
      // Once the first is done, it has.
      let next = try await store.jobClaim(
        .init(limit: 3, workerID: factory.workerID, holding: 1, memoryLimit: 1000))
      #expect(next.map(\.id) == [second])
    }
  }

  @Test func claimKeepsTheIndexPlanUnderAGenericPlan() async throws {
    try await withTestDatabase { database in
      let factory = try await QueueFactory.make(database)
      _ = try await factory.store.jobInsertMany(
        .init(), rows: (0..<2000).lazy.map { _ in JobInsertRow(kind: "noop") })
      let plan = try await database.client.withConnection { connection -> String in
        try connection.execute("ANALYZE jobs")
        try connection.execute("SET plan_cache_mode = force_generic_plan")
        try connection.execute("PREPARE claim_generic AS " + JobStore.jobClaimSQL)
        // Without and with a worker memory limit (memory-aware claims).
        var plans: [String] = []
        for limit in ["NULL", "1000000"] {
          let rows = try connection.query(
            "EXPLAIN EXECUTE claim_generic('default', NULL, 10, 1, 30, NULL, true, \(limit), 0)")
          plans.append(try rows.map { try $0.decode(0, as: String.self) }.joined(separator: "\n"))
        }
        return plans.joined(separator: "\n")
      }
      #expect(!plan.contains("Seq Scan on jobs"), "generic plan:\n\(plan)")
      #expect(plan.contains("jobs_claim_idx"), "generic plan:\n\(plan)")
    }
  }
}
