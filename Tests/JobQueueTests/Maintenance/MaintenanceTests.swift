import Foundation
import Postgres
import PostgresTesting
import Testing

@testable import JobQueue

struct SchedulerTests {
  @Test func promotesDueJobsAcrossFullStatements() async throws {
    try await withQueueFactory { factory, _ in
      let runAt = Date().addingTimeInterval(300)
      _ = try await factory.store.jobInsertMany(
        .init(), rows: (0..<25).map { _ in JobInsertRow(kind: "noop", runAt: runAt) })
      let scheduler = Scheduler(store: factory.store, configuration: .init(limit: 10))
      #expect(try await scheduler.runOnce(now: runAt.addingTimeInterval(-1)).promoted == 0)
      #expect(try await scheduler.runOnce(now: runAt).promoted == 25)
    }
  }
}

struct RescuerTests {
  @Test func rescuesEveryExpiredLeaseInOnePass() async throws {
    try await withQueueFactory { factory, _ in
      _ = try await factory.store.jobInsertMany(
        .init(), rows: (0..<12).map { _ in JobInsertRow(kind: "noop") })
      _ = try await factory.store.jobClaim(
        .init(limit: 12, workerID: factory.workerID, lease: .seconds(5)))
      let rescuer = Rescuer(store: factory.store, configuration: .init(limit: 5))
      #expect(try await rescuer.runOnce().rescued.isEmpty)
      let result = try await rescuer.runOnce(now: Date().addingTimeInterval(10))
      #expect(result.rescued.count == 12)
      #expect(result.rescued.allSatisfy { $0.state == .available })
    }
  }

  @Test func runsAsAServiceAndSignalsEachPass() async throws {
    try await withQueueFactory { factory, _ in
      let id = try await factory.insert()
      _ = try await factory.claim(id, lease: .milliseconds(1))
      let (passes, continuation) = AsyncStream.makeStream(of: Rescuer.RunOnceResult.self)
      let rescuer = PeriodicService(
        Rescuer(store: factory.store, configuration: .init(interval: .milliseconds(20))),
        onPass: { continuation.yield($0) })
      await withTaskGroup(of: Void.self) { group in
        group.addTask { try? await rescuer.run() }
        for await pass in passes where pass.rescued.contains(where: { $0.id == id }) { break }
        group.cancelAll()
      }
      #expect(try await factory.state(id) == .available)
    }
  }
}

struct BatchCounterRollupTests {
  @Test func foldsEveryDelta() async throws {
    try await withQueueFactory { factory, _ in
      let batch = try await factory.store.batchCreate(.init(name: "rollup"))
      for _ in 0..<7 { _ = try await factory.job(in: .succeeded, batchID: batch.id) }
      let rollup = BatchCounterRollup(store: factory.store, configuration: .init(limit: 3))
      #expect(try await rollup.runOnce().folded > 3)
      #expect(try await rollup.runOnce().folded == 0)
      let progress = try await factory.store.batchProgress(.init(batchID: batch.id))
      #expect(progress.counts[.succeeded] == 7 && progress.total == 7)
    }
  }
}

struct RetentionCleanerTests {
  @Test func deletesByAgePerState() async throws {
    try await withQueueFactory { factory, _ in
      let succeeded = try await factory.job(in: .succeeded)
      let dead = try await factory.job(in: .dead)
      let cleaner = RetentionCleaner(
        store: factory.store,
        configuration: .init(
          cancelledAge: .seconds(3600), deadAge: .seconds(7200), limit: 1, pause: .zero,
          succeededAge: .seconds(3600)))
      let result = try await cleaner.runOnce(now: Date().addingTimeInterval(5400))
      #expect(result.deleted[.succeeded] == 1 && result.deleted[.dead] == 0)
      #expect(try await factory.store.jobGet(id: succeeded) == nil)
      #expect(try await factory.state(dead) == .dead)
    }
  }
}

struct WorkerSweeperTests {
  @Test func marksSilentWorkersStale() async throws {
    try await withTestDatabase { database in
      let factory = try await QueueFactory.make(database)
      let sweeper = WorkerSweeper(
        store: factory.store, configuration: .init(staleAfter: .seconds(30)))
      #expect(try await sweeper.runOnce().staleWorkers.isEmpty)
      #expect(
        try await sweeper.runOnce(now: Date().addingTimeInterval(31)).staleWorkers == [
          factory.workerID
        ])
    }
  }
}
