import JobQueue
import Logging
import Synchronization
import TrolleyBasics

/// Stops jobs that reach their deadline (`jobTimeout` or the payload's `timeout_seconds`), and
/// records as timed out the ones that do not stop within `timeoutGrace`, freeing their slots.
struct TimeoutWatch: Sendable {
  let core: WorkerCore
  let acknowledger: Acknowledger

  /// Watches until the task is cancelled; sleeps until the next deadline or a new job with one.
  func run() async {
    while !Task.isCancelled {
      let now = ContinuousClock.now
      let next = check(now: now)
      await core.timeoutWake.wait(timeout: next.map { now.duration(to: $0) } ?? .seconds(3600))
    }
  }

  /// Acts on the deadlines passed at `now`; returns when to look again.
  @discardableResult
  func check(now: ContinuousClock.Instant) -> ContinuousClock.Instant? {
    let grace = core.configuration.timeoutGrace
    let check = core.state.withLock { $0.checkTimeouts(now: now, grace: grace) }
    for context in check.expired {
      core.logger.warning(
        "a job ran past its timeout; stopping it",
        metadata: ["job_id": "\(context.jobID)", "error": "\(context.timeoutMessage)"])
      context.requestStop(.timedOut)
    }
    if !check.abandoned.isEmpty { recordAbandoned(check.abandoned, at: now) }
    return check.next
  }

  /// Records timed-out jobs that did not stop within the grace period as timed out, so their slots
  /// serve other jobs; whatever they report later is ignored.
  private func recordAbandoned(_ abandoned: [RunningJob], at now: ContinuousClock.Instant) {
    core.logger.error(
      "timed-out jobs did not stop within the grace period; recording their timeout and freeing their slots",
      metadata: ["jobs": "\(abandoned.map(\.job.id).sorted())"])
    let completions = abandoned.map {
      JobCompletion($0.job, KindRunner.timedOut($0.job, context: $0.context, policy: $0.policy))
    }
    acknowledger.acknowledge(completions)
    for completion in completions {
      core.observe?(.finished(jobID: completion.id, outcome: completion.outcome))
    }
    core.recordFinished(
      abandoned.map { ($0.job.kind, "retrying", $0.started.duration(to: now).seconds) })
    core.claimWake.signal()
  }
}
