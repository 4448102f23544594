import Foundation
import JobQueue
import Postgres
import PostgresTesting
import Testing

struct JobStoreDependenciesTests {
  @Test func waitsUntilEveryDependencySucceeds() async throws {
    try await withTestDatabase { database in
      let factory = try await QueueFactory.make(database)
      let store = factory.store
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
    try await withTestDatabase { database in
      let factory = try await QueueFactory.make(database)
      let store = factory.store
      let shard = try await factory.insert(queue: "shards")
      let other = try await factory.insert(queue: "shards")
      let merge = try #require(
        try await store.jobInsert(.init(kind: "noop", dependsOn: [shard, other])).id)
      let report = try #require(
        try await store.jobInsert(.init(kind: "noop", dependsOn: [merge])).id)
      let job = try await store.jobClaim(
        .init(queue: "shards", limit: 1, workerID: factory.workerID))
      let failed = try #require(job.first)
      try #require(failed.id == shard)
      let result = try await store.jobCompleteMany(
        .init(completions: [JobCompletion(failed, .failedPermanently(error: "corrupt shard"))]))
      #expect(result.cancelledDependents == 2)
      let mergeRecord = try await factory.record(merge)
      #expect(mergeRecord.state == .cancelled)
      #expect(mergeRecord.lastError == "cancelled: dependency \(shard) ended dead")
      let reportRecord = try await factory.record(report)
      #expect(reportRecord.state == .cancelled)
      #expect(reportRecord.lastError == "cancelled: dependency \(merge) ended cancelled")
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
