import Foundation
import JobQueue
import Postgres
import PostgresTesting
import Testing
import TrolleyWorkers

/// The worker process's composition, in this process against the real database: the loop with
/// the maintenance services runs the jobs, and `exitWhenIdle` ends the whole service group
/// without error once nothing is left. (Signals are covered by the end-to-end tests.)
struct WorkerProcessTests {
  @Test func runsTheJobsWithItsMaintenanceAndStopsWhenIdle() async throws {
    try await withTestDatabase { database in
      let store = JobStore(client: database.client)
      var ids: [Int64] = []
      for _ in 0..<5 { ids.append(try #require(try await store.jobInsert(.init(kind: "noop")).id)) }
      var configuration = WorkerProcess.Configuration(
        database: database.configuration, kinds: ["noop"],
        loop: .init(concurrency: 2, pollInterval: .milliseconds(100), exitWhenIdle: true))
      configuration.reindexInterval = nil
      try await WorkerProcess(configuration: configuration).run()
      for id in ids {
        #expect(try await store.jobGet(id: id)?.state == .succeeded)
      }
    }
  }

  @Test func aTroLKindWithoutAModelIsRefused() async throws {
    try await withTestDatabase { database in
      let configuration = WorkerProcess.Configuration(
        database: database.configuration, kinds: ["trol.answer"], loop: .init(exitWhenIdle: true))
      await #expect(throws: JobQueueError.self) {
        try await WorkerProcess(configuration: configuration).run()
      }
    }
  }
}
