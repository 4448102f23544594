import JobQueue
import Logging
import Synchronization
import TrolleyBasics

/// Keeps the worker's leases: every `heartbeatInterval`, extends the lease of each running job
/// (sending its progress) and of each outcome not yet written, in one statement; stops the jobs
/// the queue says were cancelled or lost; and marks the worker alive in the registry.
struct LeaseKeeper: Sendable {
  let core: WorkerCore

  /// Beats until the task is cancelled.
  func run(workerID: Int64) async {
    var lastSuccess = ContinuousClock.now
    while !Task.isCancelled {
      guard await core.pause(for: core.configuration.heartbeatInterval) else { return }
      do {
        try await beat(workerID: workerID)
        lastSuccess = .now
        core.metrics?.setHeartbeatAge(seconds: 0)
      } catch {
        if Task.isCancelled { return }
        core.metrics?.setHeartbeatAge(seconds: lastSuccess.duration(to: .now).seconds)
        core.logger.warning("heartbeat failed; retrying", metadata: ["error": "\(error)"])
      }
    }
  }

  /// One heartbeat: extend, stop what must stop, mark the worker alive.
  func beat(workerID: Int64) async throws {
    let entries = core.state.withLock { $0.heartbeatEntries() }
    let result = try await core.driver.heartbeat(
      .init(entries: entries, lease: core.configuration.lease))
    let stops = core.state.withLock { $0.stops(after: result) }
    for context in stops.cancel { context.requestStop(.cancelRequested) }
    for context in stops.lost {
      core.logger.warning(
        "lost the lease of a running job; stopping it", metadata: ["job_id": "\(context.jobID)"])
      context.requestStop(.leaseLost)
    }
    try await core.driver.workerHeartbeat(id: workerID)
    core.observe?(.heartbeat(result))
  }
}
