import Foundation
import JobQueue
import Synchronization
import Testing

@testable import TrolleyWorkers

/// The lease keeper extends every held lease, sends progress, and stops cancelled and lost jobs.
struct LeaseKeeperTests {
  @Test func aHeartbeatExtendsLeasesAndStopsCancelledAndLostJobs() async throws {
    let fixture = PartsFixture()
    let kept = fixture.queue.insert(kind: "sleep")
    let cancelled = fixture.queue.insert(kind: "sleep")
    let lost = fixture.queue.insert(kind: "sleep")
    let running = try await fixture.claimRunning(kind: "sleep")
    let contexts = Dictionary(uniqueKeysWithValues: running.map { ($0.job.id, $0.context) })
    contexts[kept]?.reportProgress(0.25)
    fixture.queue.requestCancel(cancelled)
    fixture.queue.takeOverLease(lost)

    try await LeaseKeeper(core: fixture.core).beat(workerID: 1)

    let sent = try #require(fixture.queue.heartbeats.last)
    #expect(Set(sent.entries.map(\.id)) == [kept, cancelled, lost])
    #expect(sent.lease == fixture.core.configuration.lease)
    #expect(fixture.queue.job(kept)?.progress == 0.25)
    #expect(contexts[kept]?.stopReason == nil)
    #expect(contexts[cancelled]?.stopReason == .cancelRequested)
    #expect(contexts[lost]?.stopReason == .leaseLost)
    #expect(fixture.queue.workerHeartbeats == 1)
  }

  @Test func unwrittenOutcomesKeepTheirLeases() async throws {
    let fixture = PartsFixture()
    let id = fixture.queue.insert(kind: "noop")
    let running = try await fixture.claimRunning(kind: "noop")
    _ = fixture.core.state.withLock { $0.takeAllRunning() }
    fixture.core.state.withLock { $0.pendingAcks = [JobCompletion(running[0].job, .handedBack)] }
    try await LeaseKeeper(core: fixture.core).beat(workerID: 1)
    #expect(fixture.queue.heartbeats.last?.entries.map(\.id) == [id])
  }

  @Test func aFailedHeartbeatThrowsAndStopsNothing() async throws {
    let fixture = PartsFixture()
    fixture.queue.insert(kind: "noop")
    let running = try await fixture.claimRunning(kind: "noop")
    fixture.queue.failNext(.heartbeat)
    await #expect(throws: InMemoryQueue.InjectedFailure.self) {
      try await LeaseKeeper(core: fixture.core).beat(workerID: 1)
    }
    #expect(running[0].context.stopReason == nil)
    #expect(fixture.queue.workerHeartbeats == 0)
  }
}
