import Foundation
import JobQueue
import Postgres
import PostgresTesting
import Testing
import TrolleyBasics

struct JobStoreBatchesTests {
  @Test func countsStayExactThroughEveryMoveAndRollup() async throws {
    try await withQueueFactory { factory, store in
      let batch = try await store.batchCreate(.init(name: "exact"))
      #expect(try await store.batchCreate(.init(name: "exact")).id == batch.id)
      var expected: [JobState: Int64] = [:]
      for state in JobState.allCases where state != .waiting {
        for _ in 0..<2 { _ = try await factory.job(in: state, batchID: batch.id) }
        expected[state] = 2
      }
      func check() async throws {
        let progress = try await store.batchProgress(.init(batchID: batch.id))
        for state in JobState.allCases {
          #expect(progress.counts[state] == expected[state] ?? 0, "\(state)")
        }
      }
      try await check()
      #expect(try await store.batchCountsRollup() > 0)
      try await check()
      #expect(try await store.batchCountsRollup() == 0)
      // Heartbeats and other state-preserving updates add nothing.
      try await check()
      // Retry moves dead back to available.
      #expect(try await store.jobRetry(.init(batchID: batch.id)) == 2)
      expected[.dead] = 0
      expected[.available, default: 0] += 2
      try await check()
      // Pruning leaves the counts as a record of what happened. (Succeeded jobs of a batch with
      // unfinished jobs are never pruned: the batch is still being worked.)
      let kept = try await store.jobDeleteFinished(
        .init(state: .succeeded, olderThan: .zero, now: Date().addingTimeInterval(60)))
      #expect(kept == 0)
      let pruned = try await store.jobDeleteFinished(
        .init(state: .cancelled, olderThan: .zero, now: Date().addingTimeInterval(60)))
      #expect(pruned == 2)
      try await check()
    }
  }

  @Test func throughputAndETAFromRecentMinutes() async throws {
    try await withQueueFactory { factory, store in
      let batch = try await store.batchCreate(.init(name: "eta"))
      _ = try await store.jobInsertMany(
        .init(batchID: batch.id), rows: (0..<30).map { _ in JobInsertRow(kind: "noop") })
      let jobs = try await store.jobClaim(.init(limit: 10, workerID: factory.workerID))
      _ = try await store.jobCompleteMany(
        .init(
          completions: jobs.map { JobCompletion($0, .succeeded(result: PostgresJSONB(text: "{}"))) }
        ))
      let before = try await store.batchProgress(.init(batchID: batch.id))
      _ = try await store.batchCountsRollup()
      let after = try await store.batchProgress(.init(batchID: batch.id))
      for progress in [before, after] {
        #expect(progress.recentlyFinished == 10)
        #expect(progress.finished == 10 && progress.unfinished == 20)
        #expect(progress.window > .zero)
        let eta = try #require(progress.eta)
        let expected = 20 / progress.throughputPerSecond
        #expect(abs(Double(eta.components.seconds) - expected) <= 1)
      }
      await #expect(throws: JobQueueError(.batchNotFound, "")) {
        try await store.batchProgress(.init(batchID: 123_456))
      }
    }
  }
}
