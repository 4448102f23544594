import Foundation
import JobQueue
import Postgres
import PostgresTesting
import Testing

struct JobStoreWorkersTests {
  /// Registers a second worker next to the factory's.
  static func register(_ store: JobStore, host: String) async throws -> Int64 {
    try await store.workerRegister(
      .init(
        host: host, pid: 7, version: "test", queues: ["default"], kinds: ["noop"], capacity: 4))
  }

  @Test func acknowledgementsRecordTheFinishingWorkerAndItsThroughput() async throws {
    try await withQueueFactory { factory, store in
      let other = try await Self.register(store, host: "other-host")
      for _ in 0..<5 { _ = try await factory.insert(queue: "tp") }
      let mine = try await store.jobClaim(.init(queue: "tp", limit: 4, workerID: factory.workerID))
      let theirs = try await store.jobClaim(.init(queue: "tp", limit: 4, workerID: other))
      try #require(mine.count == 4 && theirs.count == 1)
      // Every outcome but a hand-back ends an attempt and counts.
      let result = try await store.jobCompleteMany(
        .init(completions: [
          JobCompletion(mine[0], .succeeded(result: PostgresJSONB(text: "{}"))),
          JobCompletion(mine[1], .failed(error: "flaky", retryDelay: .seconds(60))),
          JobCompletion(mine[2], .failedPermanently(error: "bad input")),
          JobCompletion(mine[3], .handedBack),
          JobCompletion(theirs[0], .succeeded(result: PostgresJSONB(text: "{}"))),
        ]))
      #expect(result.applied.count == 5)
      #expect(try await factory.record(mine[0].id).finishedBy == factory.workerID)
      #expect(try await factory.record(mine[1].id).finishedBy == factory.workerID)
      #expect(try await factory.record(mine[2].id).finishedBy == factory.workerID)
      #expect(try await factory.record(mine[3].id).finishedBy == nil)
      #expect(try await factory.record(theirs[0].id).finishedBy == other)

      // The handed-back job, claimed again by the other worker; a zombie report of the first
      // worker's lost lease changes nothing and is not counted.
      let again = try await store.jobClaim(.init(queue: "tp", limit: 1, workerID: other))
      try #require(again.first?.id == mine[3].id)
      let zombie = try await store.jobCompleteMany(
        .init(completions: [JobCompletion(mine[3], .succeeded(result: PostgresJSONB(text: "{}")))]))
      #expect(zombie.rejected == [mine[3].id])
      try await store.jobComplete(
        JobCompletion(again[0], .cancelled(reason: "operator")))
      #expect(try await factory.record(mine[3].id).finishedBy == other)

      let workers = try await store.workerOverview(minutes: 5)
      let byID = Dictionary(uniqueKeysWithValues: workers.map { ($0.id, $0) })
      let first = try #require(byID[factory.workerID])
      let second = try #require(byID[other])
      #expect(first.recentlyFinished == 3)
      #expect(second.recentlyFinished == 2)
      #expect(first.window > .zero && first.window <= .seconds(5 * 60))
      #expect(first.jobsPerMinute == Double(3) * 60 / first.windowSeconds)
      #expect(second.jobsPerMinute > 0)
    }
  }

  @Test func throughputOutsideTheWindowIsNotCountedAndRetentionDropsIt() async throws {
    try await withTestDatabase { database in
      let factory = try await QueueFactory.make(database)
      let store = factory.store
      let old = Date().addingTimeInterval(-2 * 3600)
      let id = try await factory.insert(queue: "old")
      let job = try await store.jobClaim(
        .init(queue: "old", limit: 1, workerID: factory.workerID, now: old))
      try #require(job.first?.id == id)
      _ = try await store.jobCompleteMany(
        .init(
          completions: [JobCompletion(job[0], .succeeded(result: PostgresJSONB(text: "{}")))],
          now: old))
      let worker = try #require(
        try await store.workerOverview().first { $0.id == factory.workerID })
      #expect(worker.recentlyFinished == 0)
      #expect(worker.jobsPerMinute == 0)

      let tallies = { @Sendable () async throws -> Int64 in
        try await database.client.withConnection { connection in
          try connection.query("SELECT count(*) FROM worker_minutes").single().decode(
            0, as: Int64.self)
        }
      }
      #expect(try await tallies() == 1)
      // The worker is active (not deleted), but its tallies are over an hour old.
      let deleted = try await database.client.withConnection { connection in
        try store.workerDeleteStopped(olderThan: .seconds(86_400), on: connection)
      }
      #expect(deleted == 0)
      #expect(try await tallies() == 0)
    }
  }
}
