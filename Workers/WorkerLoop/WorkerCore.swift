import JobQueue
import Logging
import Synchronization

/// What the worker loop's parts share: the queue, the settings, the state behind one lock, and
/// the signals that wake each part. Every wait of the worker goes through `WakeSignal.wait` or
/// `pause(for:)` here, so a stop request has one place to reach.
final class WorkerCore: Sendable {
  let driver: any JobQueueDriver
  let configuration: WorkerConfiguration
  let logger: Logger
  let metrics: WorkerMetrics?
  let observe: (@Sendable (WorkerEvent) -> Void)?

  let state = Mutex(WorkerState())
  /// Wakes the claim loop: a notification, a freed slot, shutdown.
  let claimWake = WakeSignal()
  /// Wakes the acknowledger.
  let ackWake = WakeSignal()
  /// Wakes the timeout watch when jobs with a deadline start.
  let timeoutWake = WakeSignal()

  init(
    driver: any JobQueueDriver, configuration: WorkerConfiguration, logger: Logger,
    metrics: WorkerMetrics?, observe: (@Sendable (WorkerEvent) -> Void)?
  ) {
    self.driver = driver
    self.configuration = configuration
    self.logger = logger
    self.metrics = metrics
    self.observe = observe
  }

  /// Jobs running now.
  var runningCount: Int { state.withLock { $0.running.count } }

  /// Sleeps for `duration`; false when the task was cancelled meanwhile.
  func pause(for duration: Duration) async -> Bool {
    do {
      try await Task.sleep(for: duration)
      return true
    } catch {
      return false
    }
  }

  /// Runs final writes (hand-backs, acknowledgements, the stop record) in a task that does not
  /// inherit the caller's cancellation: they must go out even when the worker is being cancelled
  /// (the one exception to "no unstructured tasks", docs/architecture.md).
  func shielded(_ body: @escaping @Sendable () async -> Void) async {
    await Task { await body() }.value
  }

  /// A pause that a cancelled caller does not cut short (retrying final writes).
  func shieldedPause(for duration: Duration) async {
    await shielded { _ = await self.pause(for: duration) }
  }

  /// Reports jobs that ended to metrics (duration per outcome, jobs in flight).
  func recordFinished(_ durations: [(kind: String, outcome: String, seconds: Double)]) {
    guard let metrics else { return }
    for (kind, outcome, seconds) in durations {
      metrics.recordJob(kind: kind, outcome: outcome, seconds: seconds)
    }
    metrics.setJobsInFlight(runningCount)
  }
}
