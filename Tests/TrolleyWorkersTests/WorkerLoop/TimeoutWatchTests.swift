import Foundation
import JobQueue
import Synchronization
import Testing

@testable import TrolleyWorkers

/// The timeout watch stops jobs at their deadline and frees the slots of those that ignore it.
struct TimeoutWatchTests {
  @Test func aJobPastItsDeadlineIsStoppedThenRecordedAfterTheGracePeriod() async throws {
    let fixture = PartsFixture(
      configuration: .init(pollInterval: .milliseconds(10), timeoutGrace: .seconds(10)))
    let watch = TimeoutWatch(core: fixture.core, acknowledger: fixture.acknowledger)
    let start = ContinuousClock.now
    let id = fixture.queue.insert(kind: "sleep")
    let running = try await fixture.claimRunning(
      kind: "sleep", deadline: start + .seconds(30), timeout: .seconds(30))

    #expect(watch.check(now: start) == start + .seconds(30))
    #expect(running[0].context.stopReason == nil)

    #expect(watch.check(now: start + .seconds(30)) == start + .seconds(40))
    #expect(running[0].context.stopReason == .timedOut)
    #expect(fixture.core.runningCount == 1)  // it may still stop by itself

    #expect(watch.check(now: start + .seconds(40)) == nil)
    #expect(fixture.core.runningCount == 0)
    let pending = fixture.core.state.withLock { $0.pendingAcks }
    guard case .failed(let error, _) = pending.first?.outcome else {
      Issue.record("the abandoned job must be recorded as a retryable failure, got \(pending)")
      return
    }
    #expect(error == "timed out after 30 s")
    await fixture.acknowledger.flush(all: true)
    #expect(fixture.queue.job(id)?.state == .retrying)
  }
}
