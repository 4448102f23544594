import Foundation
import JobQueue
import Postgres
import Synchronization
import Testing

@testable import TrolleyWorkers

/// The worker's pure state: each event returns what the loop must do.
struct WorkerStateTests {
  static func job(_ id: Int64, token: Int64 = 7) -> ClaimedJob {
    ClaimedJob(
      id: id, queue: "default", kind: "noop", payload: PostgresJSONB(text: "{}"), priority: 0,
      attempt: 1, maxAttempts: 5, errorCount: 0, maxCrashes: 3, crashCount: 0, leaseToken: token,
      leaseExpiresAt: Date(), batchID: nil)
  }

  static func running(
    _ id: Int64, deadline: ContinuousClock.Instant? = nil, timeout: Duration? = nil
  ) -> RunningJob {
    RunningJob(
      job: job(id),
      context: JobContext(jobID: id, queue: "default", attempt: 1, batchID: nil, timeout: timeout),
      started: .now, deadline: deadline, policy: .standard)
  }

  @Test func finishingFreesSlotsAndQueuesOutcomesExceptLostOnes() {
    var state = WorkerState()
    state.start([Self.running(1), Self.running(2), Self.running(3)])
    #expect(state.freeSlots(concurrency: 4) == 1)
    state.running[2]?.context.requestStop(.leaseLost)
    let finished = state.finish(
      [Self.job(1), Self.job(2), Self.job(9)],
      outcomes: [.succeeded(result: PostgresJSONB(text: "{}")), .handedBack, .handedBack],
      at: .now)
    // 2 lost its lease (nothing it says counts), 9 was never running (handed back already).
    #expect(finished.completions.map(\.id) == [1])
    #expect(finished.durations.map(\.outcome) == ["succeeded"])
    #expect(state.pendingAcks.map(\.id) == [1])
    #expect(Set(state.running.keys) == [3])
  }

  @Test func heartbeatsCoverRunningJobsAndUnwrittenOutcomes() {
    var state = WorkerState()
    state.start([Self.running(1)])
    state.running[1]?.context.reportProgress(0.5)
    state.pendingAcks = [JobCompletion(id: 2, leaseToken: 8, outcome: .handedBack)]
    let entries = state.heartbeatEntries()
    #expect(Set(entries.map(\.id)) == [1, 2])
    #expect(entries.first { $0.id == 1 }?.progress == 0.5)
    #expect(entries.first { $0.id == 2 }?.leaseToken == 8)
    let stops = state.stops(after: JobHeartbeatResult(cancelRequested: [1], lost: [2]))
    #expect(stops.cancel.map(\.jobID) == [1])
    #expect(stops.lost.isEmpty)  // 2 is not running: its outcome write will be rejected
  }

  @Test func failedWritesGoBackAheadOfNewerOutcomes() {
    var state = WorkerState()
    state.pendingAcks = (1...5).map { JobCompletion(id: $0, leaseToken: 1, outcome: .handedBack) }
    let first = state.takeAcks(limit: 2)
    #expect(first.map(\.id) == [1, 2])
    state.pendingAcks.append(JobCompletion(id: 6, leaseToken: 1, outcome: .handedBack))
    state.returnAcks(first)
    #expect(state.pendingAcks.map(\.id) == [1, 2, 3, 4, 5, 6])
  }

  @Test func timeoutsStopThenAbandonAfterTheGracePeriod() {
    let start = ContinuousClock.now
    var state = WorkerState()
    state.start([
      Self.running(1, deadline: start + .seconds(1)),
      Self.running(2, deadline: start + .seconds(5)),
      Self.running(3),
    ])
    let grace = Duration.seconds(2)
    var check = state.checkTimeouts(now: start, grace: grace)
    #expect(check.expired.isEmpty && check.abandoned.isEmpty)
    #expect(check.next == start + .seconds(1))

    check = state.checkTimeouts(now: start + .seconds(1), grace: grace)
    #expect(check.expired.map(\.jobID) == [1])
    #expect(check.next == start + .seconds(3))
    check.expired[0].requestStop(.timedOut)

    // Still within the grace period: keep waiting for it.
    check = state.checkTimeouts(now: start + .seconds(2), grace: grace)
    #expect(check.expired.isEmpty && check.abandoned.isEmpty)
    #expect(check.next == start + .seconds(3))

    check = state.checkTimeouts(now: start + .seconds(3), grace: grace)
    #expect(check.abandoned.map(\.job.id) == [1])
    #expect(Set(state.running.keys) == [2, 3])
    #expect(check.next == start + .seconds(5))
  }

  @Test func handingBackTakesEveryJobAndStoppingHappensOnce() {
    var state = WorkerState()
    state.start([Self.running(1), Self.running(2)])
    #expect(Set(state.takeAllRunning().map(\.job.id)) == [1, 2])
    #expect(state.running.isEmpty)
    #expect(state.markStopped() == false)
    #expect(state.markStopped() == true)
  }
}
