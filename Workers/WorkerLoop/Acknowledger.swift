import JobQueue
import Logging
import Synchronization

/// Writes job outcomes to the queue in batches: as soon as `ackBatchSize` are pending, else after
/// at most `ackDelay` so a few more outcomes share the statement. A failed write keeps the
/// outcomes pending (the lease keeper keeps extending their leases) and is retried.
struct Acknowledger: Sendable {
  let core: WorkerCore

  /// The most outcomes per statement.
  static let statementLimit = 1000

  /// Queues outcomes for writing and wakes the acknowledger.
  func acknowledge(_ completions: [JobCompletion]) {
    core.state.withLock { $0.pendingAcks += completions }
    core.ackWake.signal()
  }

  /// Waits for outcomes and writes them, until the task is cancelled.
  func run() async {
    let configuration = core.configuration
    while !Task.isCancelled {
      await core.ackWake.wait(timeout: .seconds(1))
      if Task.isCancelled { return }
      let pending = core.state.withLock { $0.pendingAcks.count }
      if pending == 0 { continue }
      if pending < configuration.ackBatchSize && configuration.ackDelay > .zero {
        // Let a few more outcomes share the statement.
        _ = await core.pause(for: configuration.ackDelay)
      }
      await flush(all: false)
    }
  }

  /// Writes pending outcomes, `statementLimit` per statement. On a database error they stay
  /// pending and are retried (up to 20 times in a row); with `all` false, a cancelled task stops
  /// retrying.
  func flush(all: Bool) async {
    var failures = 0
    while true {
      let batch = core.state.withLock { $0.takeAcks(limit: Self.statementLimit) }
      if batch.isEmpty { return }
      do {
        let result = try await core.driver.complete(.init(completions: batch))
        core.state.withLock { $0.ackWritten(batch) }
        for id in result.rejected {
          core.logger.warning(
            "an outcome was rejected: the job's lease had been taken over",
            metadata: ["job_id": "\(id)"])
        }
        core.observe?(.acknowledged(result))
        failures = 0
      } catch {
        core.state.withLock { $0.returnAcks(batch) }
        failures += 1
        core.logger.warning(
          "acknowledging outcomes failed; retrying", metadata: ["error": "\(error)"])
        if !all && Task.isCancelled { return }
        if failures > 20 { return }
        await core.shieldedPause(for: core.configuration.pollInterval * min(failures, 5))
      }
    }
  }
}
