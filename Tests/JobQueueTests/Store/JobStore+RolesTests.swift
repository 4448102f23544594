import Foundation
import Postgres
import PostgresTesting
import Testing

@testable import JobQueue

/// Issue 13, item 11: workers run as a role that can do their work but not change the schema.
struct JobStoreRolesTests {
  @Test func theWorkerRoleRunsJobsButCannotChangeTheSchema() async throws {
    // Roles belong to the whole server: a name of this test's own, dropped at the end.
    let role = "trolley_worker_test_\(getpid())_\(UInt32.random(in: 0...UInt32.max))"
    let admin = PostgresClient(configuration: try TestServer.shared().configuration)
    defer { admin.shutdown() }
    do {
      try await withTestDatabase { database in
        let setup = try await database.client.withConnection { connection in
          try JobStore.workerRoleSetUp(role: role, create: true, on: connection)
        }
        #expect(setup.created && setup.granted)
        let owner = QueueFactory(store: JobStore(client: database.client), workerID: 0)
        let batch = try await owner.store.batchCreate(.init(name: "least-privilege"))
        let dependency = try await owner.insert(queue: "q", batchID: batch.id)
        _ = try await owner.insert(queue: "q", batchID: batch.id, dependsOn: [dependency])

        var settings = database.configuration
        settings.overrides["user"] = role
        let client = PostgresClient(configuration: settings, maximumConnections: 2)
        defer { client.shutdown() }
        let store = JobStore(client: client)
        // Everything a worker does.
        let worker = try await store.workerRegister(
          .init(
            host: "h", pid: 1, version: "t", queues: ["q"], kinds: ["noop"], capacity: 2,
            lease: .seconds(30)))
        let jobs = try await store.jobClaim(.init(queue: "q", limit: 2, workerID: worker))
        #expect(jobs.map(\.id) == [dependency])
        let beat = try await store.jobHeartbeatMany(
          .init(entries: jobs.map { .init(id: $0.id, leaseToken: $0.leaseToken) }))
        #expect(beat.lost.isEmpty)
        let done = try await store.jobCompleteMany(
          .init(completions: jobs.map { JobCompletion($0, .succeeded(result: .init(text: "{}"))) }))
        #expect(done.applied[dependency] == .succeeded && done.releasedDependents == 1)
        _ = try await store.jobInsertMany(
          .init(batchID: batch.id),
          rows: [JobInsertRow(queue: "q", kind: "noop", uniqueKey: "k")])
        _ = try await Scheduler(store: store).runOnce()
        _ = try await Rescuer(store: store).runOnce()
        _ = try await WorkerSweeper(store: store).runOnce()
        _ = try await BatchCounterRollup(store: store).runOnce()
        _ = try await DependencyReconciler(store: store).runOnce()
        _ = try await RetentionCleaner(
          store: store, configuration: .init(succeededAge: .seconds(1))
        ).runOnce()
        // Maintenance that needs ownership is skipped, not failed.
        let reindex = try await Reindexer(store: store).runOnce()
        #expect(reindex.outcome == .notOwner)
        // No schema change.
        for statement in [
          "ALTER TABLE jobs ADD COLUMN stolen text", "DROP TABLE jobs", "CREATE TABLE t (x int)",
          "DELETE FROM schema_migrations", "CREATE INDEX ON jobs (kind)",
        ] {
          do {
            try await client.execute(statement)
            Issue.record("the worker role could run: \(statement)")
          } catch let error as PostgresError {
            #expect(error.sqlState == "42501", "\(statement): \(error)")
          }
        }
      }
      try await admin.execute("DROP ROLE IF EXISTS \(role)")
    } catch {
      try? await admin.execute("DROP ROLE IF EXISTS \(role)")
      throw error
    }
  }
}
