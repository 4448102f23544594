import Foundation
import JobQueue
import Logging
import Synchronization
import Testing
import TrolleyWorkers

/// The whole loop over the in-memory queue: registration, claims, outcomes, shutdown.
struct InMemoryWorkerLoopTests {
  @Test func runsEveryJobAndExitsWhenIdle() async throws {
    let queue = InMemoryQueue()
    let ok = (0..<5).map { _ in queue.insert(kind: "noop") }
    let retry = queue.insert(kind: "fail", payload: #"{"succeedOnAttempt": 2}"#)
    let dead = queue.insert(kind: "fail", payload: #"{"permanent": true, "message": "no"}"#)
    queue.failNext(.claim)  // a failed claim is retried
    let loop = WorkerLoop(
      driver: queue, kinds: [KindRunner(NoopJob()), KindRunner(FailJob())],
      configuration: .init(
        concurrency: 3, pollInterval: .milliseconds(10), pollOnly: true, exitWhenIdle: true))
    try await loop.run()
    #expect(ok.allSatisfy { queue.job($0)?.state == .succeeded })
    #expect(queue.job(retry)?.state == .retrying)  // retried later (attempt 2 succeeds)
    #expect(queue.job(dead)?.state == .dead)
    #expect(queue.job(dead)?.lastError == "no")
    let workerID = try #require(loop.workerID)
    #expect(queue.workerStopped(workerID) == true)
  }

  /// Memory-aware claims: a worker with a memory limit leaves jobs that declare more
  /// (`memory_bytes`, as training shards do) to a bigger worker and runs those that fit.
  @Test func aWorkerDoesNotClaimJobsThatDoNotFitItsMemory() async throws {
    let queue = InMemoryQueue()
    let big = queue.insert(kind: "noop", payload: #"{"memory_bytes": 2000000}"#)
    let small = queue.insert(kind: "noop", payload: #"{"memory_bytes": 1000}"#)
    let plain = queue.insert(kind: "noop")
    let loop = WorkerLoop(
      driver: queue, kinds: [KindRunner(NoopJob())],
      configuration: .init(
        pollInterval: .milliseconds(10), pollOnly: true, exitWhenIdle: true,
        memoryLimit: 1_000_000))
    try await loop.run()
    #expect(queue.job(big)?.state == .available)
    #expect(queue.job(big)?.attempt == 0)
    #expect(queue.job(small)?.state == .succeeded)
    #expect(queue.job(plain)?.state == .succeeded)
    #expect(queue.claims.allSatisfy { $0.memoryLimit == 1_000_000 })
  }

  @Test func shutdownHandsRunningJobsBackAfterTheGracePeriod() async throws {
    let queue = InMemoryQueue()
    let id = queue.insert(kind: "sleep", payload: #"{"ms": 600000}"#)
    let (events, continuation) = AsyncStream.makeStream(of: WorkerEvent.self)
    let loop = WorkerLoop(
      driver: queue, kinds: [KindRunner(SleepJob())],
      configuration: .init(gracePeriod: .milliseconds(50), pollInterval: .milliseconds(10)),
      observe: { continuation.yield($0) })
    try await withThrowingTaskGroup(of: Void.self) { group in
      group.addTask { try await loop.run() }
      for await event in events {
        if case .claimed = event { break }
      }
      loop.beginShutdown()
      try await group.waitForAll()
    }
    #expect(queue.job(id)?.state == .available)
    #expect(queue.job(id)?.errorCount == 0)
  }
}
