import Foundation
import JobQueue
import Postgres
import Synchronization
import Testing

@testable import TrolleyWorkers

/// The claim loop claims from its queues in turn, only its kinds, and runs them in chunks.
struct ClaimLoopTests {
  /// A claim loop running `BatchProbeJob` (batches of up to 5), and the log of its batch sizes.
  static func probeLoop(_ fixture: PartsFixture) -> (ClaimLoop, BatchProbeJob.SizeLog) {
    let sizes = BatchProbeJob.SizeLog()
    let loop = ClaimLoop(
      core: fixture.core, runners: [BatchProbeJob.name: KindRunner(BatchProbeJob(sizes: sizes))],
      acknowledger: fixture.acknowledger)
    return (loop, sizes)
  }

  @Test func claimsFromTheQueuesInTurnUpToTheFreeSlots() async throws {
    let fixture = PartsFixture(
      configuration: .init(concurrency: 4, pollInterval: .milliseconds(10), queues: ["a", "b"]))
    for _ in 0..<2 { fixture.queue.insert(kind: "noop", queue: "a") }
    for _ in 0..<3 { fixture.queue.insert(kind: "noop", queue: "b") }
    fixture.queue.insert(kind: "unknown", queue: "a")
    let loop = ClaimLoop(
      core: fixture.core, runners: ["noop": KindRunner(NoopJob())],
      acknowledger: fixture.acknowledger)
    let claimed = await withTaskGroup(of: Void.self) { group -> Int? in
      let claimed = try? await loop.claim(workerID: 1, free: 4, turn: 1, group: &group)
      await group.waitForAll()
      return claimed
    }
    #expect(claimed == 4)
    // Turn 1 starts at queue b; b had 3, so a gave the fourth.
    #expect(fixture.queue.claims.map(\.queue) == ["b", "a"])
    #expect(fixture.queue.claims.map(\.limit) == [4, 1])
    #expect(fixture.queue.claims.allSatisfy { $0.kinds == ["noop"] })
    #expect(fixture.core.runningCount == 0)
    #expect(fixture.core.state.withLock { $0.pendingAcks.count } == 4)
  }

  @Test func runsAKindsJobsInChunksOfItsBatchSize() async throws {
    let fixture = PartsFixture()
    let (loop, sizes) = Self.probeLoop(fixture)
    for _ in 0..<7 { fixture.queue.insert(kind: BatchProbeJob.name, payload: #"{"fail": false}"#) }
    let jobs = try await fixture.queue.claim(.init(limit: 10, workerID: 1))
    await withTaskGroup(of: Void.self) { group in
      loop.start(jobs, group: &group)
      await group.waitForAll()
    }
    #expect(sizes.all.sorted() == [2, 5])
    await fixture.acknowledger.flush(all: true)
    #expect(jobs.allSatisfy { fixture.queue.job($0.id)?.state == .succeeded })
    #expect(fixture.queue.job(jobs[0].id)?.result == #"{"batchSize":5}"#)
  }

  @Test func aJobWithAnInvalidTimeoutIsDeadWithoutRunning() async throws {
    let fixture = PartsFixture()
    let (loop, sizes) = Self.probeLoop(fixture)
    let id = fixture.queue.insert(
      kind: BatchProbeJob.name, payload: #"{"fail": false, "timeout_seconds": -1}"#)
    let jobs = try await fixture.queue.claim(.init(limit: 10, workerID: 1))
    await withTaskGroup(of: Void.self) { group in
      loop.start(jobs, group: &group)
      await group.waitForAll()
    }
    #expect(sizes.all.isEmpty)
    await fixture.acknowledger.flush(all: true)
    #expect(fixture.queue.job(id)?.state == .dead)
    #expect(fixture.queue.job(id)?.lastError?.contains("timeout_seconds") == true)
  }
}
