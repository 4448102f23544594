import Foundation
import JobQueue
import Postgres
import PostgresTesting
import Testing
import TrolleyBasics

struct JobStoreInsertTests {
  @Test func uniqueKeysMakeEnqueueIdempotent() async throws {
    try await withQueueFactory { factory, store in
      let first = try await store.jobInsert(.init(kind: "noop", uniqueKey: "image-1"))
      let again = try await store.jobInsert(.init(kind: "noop", uniqueKey: "image-1"))
      #expect(first.id != nil && first.state == .available)
      #expect(again.skipped)
      // Bulk: keys seen before and duplicates within the call are skipped and counted.
      let rows = (0..<10).map { JobInsertRow(kind: "noop", uniqueKey: "image-\($0 % 8)") }
      let bulk = try await store.jobInsertMany(.init(), rows: rows)
      #expect(bulk.added == 7)
      #expect(bulk.skipped == 3)
      let rerun = try await store.jobInsertMany(.init(), rows: rows)
      #expect(rerun.added == 0 && rerun.skipped == 10)
    }
  }

  @Test func bulkEnqueueStreamsManyRowsIntoABatch() async throws {
    try await withQueueFactory { factory, store in
      let batch = try await store.batchCreate(.init(name: "bulk"))
      let count = 50_000
      let rows = (0..<count).lazy.map {
        JobInsertRow(kind: "sleep", payload: PostgresJSONB(text: #"{"ms": \#($0 % 7)}"#))
      }
      let result = try await store.jobInsertMany(.init(batchID: batch.id), rows: rows)
      #expect(result.added == count && result.skipped == 0)
      let progress = try await store.batchProgress(.init(batchID: batch.id))
      #expect(progress.counts[.available] == Int64(count))
      #expect(progress.total == Int64(count))
      let sample = try await store.jobClaim(.init(limit: 1, workerID: factory.workerID))
      #expect(try sample.first?.payload.decode([String: Int].self) == ["ms": 0])
    }
  }

  @Test func bulkFastPathKeepsEveryFieldExactly() async throws {
    try await withTestDatabase { database in
      let factory = try await QueueFactory.make(database)
      let store = factory.store
      let batch = try await store.batchCreate(.init(name: "fields"))
      // Text that COPY's text format must escape, non-ASCII text, and settings that change from
      // row to row (the encoder reuses the formatted tail while they repeat).
      let texts = ["tab\there", "line\nbreak", "back\\slash \\N", "cr\rhere", "日本語 ✓", "plain"]
      let rows = try texts.enumerated().map { index, text in
        // Queue and kind carry the raw characters; the payload is JSON (escaped by the encoder,
        // so it holds backslashes that COPY must double).
        JobInsertRow(
          queue: "q" + text, kind: "k\\\(index)\n",
          payload: try PostgresJSONB(encoding: ["text": text]), priority: Int16(index / 2 - 1),
          maxAttempts: Int32(1 + index / 3), maxCrashes: Int32(2 + index % 2))
      }
      let result = try await store.jobInsertMany(.init(batchID: batch.id), rows: rows)
      #expect(result.added == rows.count && result.skipped == 0)
      let ids = try await database.client.withConnection { connection in
        try connection.query("SELECT id FROM jobs WHERE batch_id = $1 ORDER BY id", [batch.id])
          .map { try $0.decode(0, as: Int64.self) }
      }
      try #require(ids.count == rows.count)
      for (id, row) in zip(ids, rows) {
        let record = try await factory.record(id)
        #expect(record.queue == row.queue)
        #expect(record.kind == row.kind)
        #expect(
          try record.payload.decode([String: String].self)
            == row.payload.decode([String: String].self))
        #expect(record.priority == row.priority)
        #expect(record.maxAttempts == row.maxAttempts)
        #expect(record.maxCrashes == row.maxCrashes)
        #expect(record.batchID == batch.id)
        #expect(record.state == .available)
      }
    }
  }

  @Test func bulkRowsMustAgreeOnKeysAndAddNothingOtherwise() async throws {
    try await withQueueFactory { _, store in
      let rows = [JobInsertRow(kind: "noop"), JobInsertRow(kind: "noop", uniqueKey: "k")]
      await #expect(throws: JobQueueError(.invalidRequest, "")) {
        try await store.jobInsertMany(.init(), rows: rows)
      }
      // A `try` outside the macro: the closure's throwing is inferred from the statements it
      // spells out, and one inside `#expect` alone is not seen.
      let claimed = try await store.jobClaim(.init(limit: 10, workerID: 1))
      #expect(claimed.isEmpty)
    }
  }

  @Test func futureJobsAreScheduledThenPromoted() async throws {
    try await withQueueFactory { factory, store in
      let runAt = Date().addingTimeInterval(600)
      let single = try await store.jobInsert(.init(kind: "noop", runAt: runAt))
      #expect(single.state == .scheduled)
      let bulk = try await store.jobInsertMany(
        .init(),
        rows: [JobInsertRow(kind: "noop", runAt: runAt), JobInsertRow(kind: "noop", runAt: nil)])
      #expect(bulk.added == 2)
      #expect(try await store.jobClaim(.init(limit: 10, workerID: 1)).count == 1)
      #expect(try await store.jobPromoteDue(.init(now: runAt.addingTimeInterval(-1))) == 0)
      #expect(try await store.jobPromoteDue(.init(now: runAt)) == 2)
      #expect(try await store.jobClaim(.init(limit: 10, workerID: 1)).count == 2)
    }
  }

  @Test func enqueueInsideTheCallersTransactionRollsBackWithIt() async throws {
    try await withTestDatabase { database in
      let factory = try await QueueFactory.make(database)
      let store = factory.store
      struct Abort: Error {}
      await #expect(throws: Abort.self) {
        try await database.client.withTransaction { connection in
          try store.jobInsert(.init(kind: "noop", uniqueKey: "tx"), on: connection)
          _ = try store.jobInsertMany(.init(), rows: [JobInsertRow(kind: "noop")], on: connection)
          throw Abort()
        }
      }
      #expect(try await store.jobClaim(.init(limit: 10, workerID: 1)).isEmpty)
      #expect(try await store.jobInsert(.init(kind: "noop", uniqueKey: "tx")).skipped == false)
    }
  }

  @Test func enqueueNotifiesTheQueueOnce() async throws {
    try await withTestDatabase { database in
      let factory = try await QueueFactory.make(database)
      let listener = PostgresListener(
        configuration: database.configuration, channels: [JobStore.notificationChannel])
      defer { listener.close() }
      #expect(try await listener.next(timeout: .milliseconds(10)).isEmpty)
      _ = try await factory.store.jobInsertMany(
        .init(), rows: (0..<1000).map { _ in JobInsertRow(queue: "bulk", kind: "noop") })
      var received: [PostgresNotification] = []
      while received.isEmpty { received = try await listener.next(timeout: .seconds(10)) }
      #expect(received.map(\.payload) == ["bulk"])
      #expect(try await listener.next(timeout: .milliseconds(100)).isEmpty)
    }
  }
}
