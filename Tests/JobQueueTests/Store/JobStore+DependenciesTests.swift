import Foundation
import JobQueue
import Postgres
import PostgresTesting
import Testing
import TrolleyBasics

struct JobStoreDependenciesTests {
  @Test func waitsUntilEveryDependencySucceeds() async throws {
    try await withQueueFactory { factory, store in
      let shardA = try await factory.insert(queue: "shards")
      let shardB = try await factory.insert(queue: "shards")
      let merge = try await store.jobInsert(.init(kind: "noop", dependsOn: [shardA, shardB]))
      #expect(merge.state == .waiting)
      let jobs = try await store.jobClaim(
        .init(queue: "shards", limit: 2, workerID: factory.workerID))
      let ok = PostgresJSONB(text: "{}")
      let first = try await store.jobCompleteMany(
        .init(completions: [
          JobCompletion(try #require(jobs.first { $0.id == shardA }), .succeeded(result: ok))
        ]))
      #expect(first.releasedDependents == 0)
      #expect(try await factory.state(try #require(merge.id)) == .waiting)
      let second = try await store.jobCompleteMany(
        .init(completions: [
          JobCompletion(try #require(jobs.first { $0.id == shardB }), .succeeded(result: ok))
        ]))
      #expect(second.releasedDependents == 1)
      #expect(try await factory.state(try #require(merge.id)) == .available)
      // Depending on jobs that already succeeded: available at once.
      let late = try await store.jobInsert(.init(kind: "noop", dependsOn: [shardA]))
      #expect(late.state == .available)
    }
  }

  @Test func aFailedDependencyCancelsTheWholeChainNamingIt() async throws {
    try await withQueueFactory { factory, store in
      let shard = try await factory.insert(queue: "shards")
      let other = try await factory.insert(queue: "shards")
      let merge = try await factory.insert(dependsOn: [shard, other])
      let report = try await factory.insert(dependsOn: [merge])
      let result = try await factory.failForGood(shard, queue: "shards", error: "corrupt shard")
      #expect(result.cancelledDependents == 2)
      try await factory.expectCancelled(merge, by: shard, ended: "dead")
      try await factory.expectCancelled(report, by: merge, ended: "cancelled")
      // Enqueueing against a dead dependency is cancelled at once.
      let doomed = try await store.jobInsert(.init(kind: "noop", dependsOn: [shard]))
      #expect(doomed.state == .cancelled)
      // Unknown dependencies are refused.
      await #expect(throws: JobQueueError(.dependencyNotFound, "")) {
        try await store.jobInsert(.init(kind: "noop", dependsOn: [999_999]))
      }
    }
  }
}

struct JobStoreBulkDependenciesTests {
  static let ok = PostgresJSONB(text: "{}")

  /// The id of the job with `key`.
  static func id(_ database: TestDatabase, key: String) async throws -> Int64 {
    try await database.client.withConnection { connection in
      try connection.query("SELECT id FROM jobs WHERE unique_key = $1", [key]).single().decode(
        0, as: Int64.self)
    }
  }

  @Test func bulkEnqueuedJobsWaitForTheirDependencies() async throws {
    try await withTestDatabase { database in
      let factory = try await QueueFactory.make(database)
      let store = factory.store
      let batch = try await store.batchCreate(.init(name: "dag"))
      let existing = try await factory.insert(queue: "shards")
      // Two shards and a merge over them (by key, in the same call) and over an existing job
      // (by id); a report over the merge; the merge repeated by id and key counts once.
      let rows = [
        JobInsertRow(queue: "shards", kind: "noop", uniqueKey: "shard-1"),
        JobInsertRow(queue: "shards", kind: "noop", uniqueKey: "shard-2"),
        JobInsertRow(
          kind: "noop", uniqueKey: "merge", dependsOn: [existing],
          dependsOnKeys: ["shard-1", "shard-2", "shard-2"]),
        JobInsertRow(kind: "noop", uniqueKey: "report", dependsOnKeys: ["merge"]),
      ]
      let result = try await store.jobInsertMany(.init(batchID: batch.id), rows: rows)
      #expect(result.added == 4 && result.skipped == 0)
      let shard1 = try await Self.id(database, key: "shard-1")
      let shard2 = try await Self.id(database, key: "shard-2")
      let merge = try await Self.id(database, key: "merge")
      let report = try await Self.id(database, key: "report")
      #expect(try await factory.record(merge).state == .waiting)
      #expect(try await factory.record(merge).pendingDependencies == 3)
      #expect(try await factory.record(report).state == .waiting)
      let progress = try await store.batchProgress(.init(batchID: batch.id))
      #expect(progress.counts[.waiting] == 2 && progress.counts[.available] == 2)

      // Re-running the same enqueue adds nothing and changes no dependency.
      let again = try await store.jobInsertMany(.init(batchID: batch.id), rows: rows)
      #expect(again.added == 0 && again.skipped == 4)
      #expect(try await factory.record(merge).pendingDependencies == 3)

      // The merge waits until all three succeeded, then the report until the merge did.
      let shards = try await store.jobClaim(
        .init(queue: "shards", limit: 3, workerID: factory.workerID))
      #expect(Set(shards.map(\.id)) == [existing, shard1, shard2])
      for (index, job) in shards.enumerated() {
        let done = try await store.jobCompleteMany(
          .init(completions: [JobCompletion(job, .succeeded(result: Self.ok))]))
        #expect(done.releasedDependents == (index == 2 ? 1 : 0))
        let expected: JobState = index == 2 ? .available : .waiting
        #expect(try await factory.record(merge).state == expected)
      }
      let mergeJob = try #require(
        try await store.jobClaim(.init(limit: 1, workerID: factory.workerID)).first)
      #expect(mergeJob.id == merge)
      #expect(try await factory.record(report).state == .waiting)
      _ = try await store.jobComplete(JobCompletion(mergeJob, .succeeded(result: Self.ok)))
      #expect(try await factory.record(report).state == .available)
    }
  }

  @Test func aFailedDependencyCancelsBulkJobsNamingIt() async throws {
    try await withTestDatabase { database in
      let factory = try await QueueFactory.make(database)
      let store = factory.store
      let dead = try await factory.job(in: .dead)
      let rows = [
        JobInsertRow(queue: "shards", kind: "noop", uniqueKey: "shard"),
        JobInsertRow(kind: "noop", uniqueKey: "merge", dependsOnKeys: ["shard"]),
        // Over a job that is already dead: cancelled at once, and its dependent in the call too.
        JobInsertRow(kind: "noop", uniqueKey: "doomed", dependsOn: [dead]),
        JobInsertRow(kind: "noop", uniqueKey: "after-doomed", dependsOnKeys: ["doomed"]),
      ]
      #expect(try await store.jobInsertMany(.init(), rows: rows).added == 4)
      let shard = try await Self.id(database, key: "shard")
      let merge = try await Self.id(database, key: "merge")
      let doomed = try await Self.id(database, key: "doomed")
      let afterDoomed = try await Self.id(database, key: "after-doomed")
      try await factory.expectCancelled(doomed, by: dead, ended: "dead")
      try await factory.expectCancelled(afterDoomed, by: doomed, ended: "cancelled")

      // The shard fails for good: the merge waiting on it is cancelled with its id.
      let result = try await factory.failForGood(shard, queue: "shards", error: "corrupt shard")
      #expect(result.cancelledDependents == 1)
      try await factory.expectCancelled(merge, by: shard, ended: "dead")
    }
  }

  @Test func unknownDependenciesAddNothing() async throws {
    try await withQueueFactory { factory, store in
      // A key may only name an earlier row (or an existing job): naming a later one is refused.
      let forward = [
        JobInsertRow(kind: "noop", uniqueKey: "a", dependsOnKeys: ["b"]),
        JobInsertRow(kind: "noop", uniqueKey: "b"),
      ]
      await #expect(throws: JobQueueError(.dependencyNotFound, "")) {
        try await store.jobInsertMany(.init(), rows: forward)
      }
      let missing = [JobInsertRow(kind: "noop", uniqueKey: "c", dependsOn: [987_654_321])]
      await #expect(throws: JobQueueError(.dependencyNotFound, "")) {
        try await store.jobInsertMany(.init(), rows: missing)
      }
      // A later row with dependencies needs the staged path, chosen up front.
      let mixed = [JobInsertRow(kind: "noop"), JobInsertRow(kind: "noop", dependsOnKeys: ["c"])]
      await #expect(throws: JobQueueError(.invalidRequest, "")) {
        try await store.jobInsertMany(.init(), rows: mixed)
      }
      #expect(try await store.jobClaim(.init(limit: 10, workerID: factory.workerID)).isEmpty)
      // With staged: true the same rows go in (the key names an existing job by then).
      _ = try await store.jobInsert(.init(queue: "other", kind: "noop", uniqueKey: "c"))
      let staged = try await store.jobInsertMany(.init(staged: true), rows: mixed)
      #expect(staged.added == 2)
    }
  }
}
