import Foundation
import Postgres
import PostgresTesting
import Testing
import TrolleyBasics

@testable import JobQueue

struct ReindexerTests {
  /// Every index of `jobs` with its validity and its storage file (a rebuild gives a new one).
  static func indexes(_ database: TestDatabase) async throws -> [String: (valid: Bool, file: Int64)]
  {
    try await database.client.withConnection { connection in
      var result: [String: (valid: Bool, file: Int64)] = [:]
      for row in try connection.query(
        """
        SELECT c.relname::text, i.indisvalid, c.relfilenode::bigint
        FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid = 'jobs'::regclass
        """)
      {
        let (name, valid, file) = try row.decode((String, Bool, Int64).self)
        result[name] = (valid, file)
      }
      return result
    }
  }

  @Test func rebuildsTheHotIndexesOncePerIntervalAndLeavesThemValid() async throws {
    try await withTestDatabase { database in
      let factory = try await QueueFactory.make(database)
      let store = factory.store
      _ = try await store.jobInsertMany(
        .init(), rows: (0..<500).map { _ in JobInsertRow(kind: "noop") })
      let claimed = try await store.jobClaim(.init(limit: 200, workerID: factory.workerID))
      _ = try await store.jobCompleteMany(
        .init(
          completions: claimed.map {
            JobCompletion($0, .succeeded(result: PostgresJSONB(text: "{}")))
          }))
      // An interrupted earlier rebuild's leftover: a failed CREATE INDEX CONCURRENTLY leaves an
      // invalid index behind (here a unique index over duplicate kinds).
      let failed = try await database.client.withConnection { connection -> Bool in
        do {
          try connection.execute(
            "CREATE UNIQUE INDEX CONCURRENTLY jobs_claim_idx_ccnew ON jobs (kind)")
          return false
        } catch is PostgresError {
          return true
        }
      }
      #expect(failed)
      let before = try await Self.indexes(database)
      #expect(before["jobs_claim_idx_ccnew"]?.valid == false)

      let reindexer = Reindexer(store: store, configuration: .init(interval: .seconds(3600)))
      let now = Date()
      let first = try await reindexer.runOnce(now: now)
      #expect(first.outcome == .reindexed)
      #expect(first.reindexed == JobStore.hotIndexes)
      #expect(first.droppedLeftovers == ["jobs_claim_idx_ccnew"])
      let after = try await Self.indexes(database)
      #expect(after["jobs_claim_idx_ccnew"] == nil)
      let invalid = after.filter { !$0.value.valid }.map(\.key)
      #expect(invalid.isEmpty, "invalid indexes: \(invalid)")
      #expect(Set(after.keys) == Set(before.keys).subtracting(["jobs_claim_idx_ccnew"]))
      for name in JobStore.hotIndexes {
        let old = try #require(before[name])
        let new = try #require(after[name])
        #expect(new.file != old.file, "\(name) was not rebuilt")
      }
      // The claim still works on the rebuilt index.
      #expect(try await store.jobClaim(.init(limit: 300, workerID: factory.workerID)).count == 300)

      // Once per interval for the whole fleet: a second pass (any worker) within it does nothing.
      let again = try await reindexer.runOnce(now: now.addingTimeInterval(60))
      #expect(again.outcome == .notDue && again.reindexed.isEmpty)
      #expect(
        try await Self.indexes(database)["jobs_claim_idx"]?.file == after["jobs_claim_idx"]?.file)
      let later = try await reindexer.runOnce(now: now.addingTimeInterval(3601))
      #expect(later.outcome == .reindexed)
    }
  }

  @Test func oneWorkerAtATime() async throws {
    try await withTestDatabase { database in
      let store = JobStore(client: database.client)
      let holder = try PostgresConnection(configuration: database.configuration)
      defer { holder.close() }
      // Another worker is reindexing: it holds the session lock.
      try holder.execute("SELECT pg_advisory_lock(7301002)")
      let reindexer = Reindexer(store: store, configuration: .init(interval: .seconds(60)))
      let blocked = try await reindexer.runOnce()
      #expect(blocked.outcome == .lockHeld && blocked.reindexed.isEmpty)
      try holder.execute("SELECT pg_advisory_unlock(7301002)")
      #expect(try await reindexer.runOnce().outcome == .reindexed)
    }
  }

  @Test func refusesNamesThatAreNotQueueIndexes() async throws {
    try await withTestDatabase { database in
      let store = JobStore(client: database.client)
      let reindexer = Reindexer(
        store: store,
        configuration: .init(
          interval: .seconds(60), indexes: ["jobs_claim_idx", "pg_class_oid_index"]))
      await #expect(throws: JobQueueError(.invalidRequest, "")) { try await reindexer.runOnce() }
      // Nothing was recorded: the next valid pass runs.
      let valid = Reindexer(store: store, configuration: .init(interval: .seconds(60)))
      let pass = try await valid.runOnce()
      #expect(pass.outcome == .reindexed)
    }
  }
}
