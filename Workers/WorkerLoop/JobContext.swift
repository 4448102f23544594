import Synchronization
import TrolleyBasics

/// What a running job can ask of its worker: who it is, whether it should stop, and where to
/// report progress. One per claimed job; safe to use from any task.
public final class JobContext: Sendable {
  /// Why the worker wants a job to stop.
  public enum StopReason: String, Sendable, Hashable {
    /// An operator cancelled the job (learned at the last heartbeat).
    case cancelRequested = "cancel requested"
    /// The lease was taken over; nothing this attempt reports will be accepted.
    case leaseLost = "lease lost"
    /// The worker is shutting down and its grace period is over; the job is handed back.
    case shutdown = "worker shutting down"
    /// The job ran longer than its timeout; it fails with a retryable error.
    case timedOut = "timed out"
  }

  private struct State {
    var progress: Double?
    var progressSource: (@Sendable () -> Double)?
    var stopReason: StopReason?
    var stopHandlers: [@Sendable () -> Void] = []
  }

  /// The job's id.
  public let jobID: Int64
  /// The job's queue.
  public let queue: String
  /// This attempt's number, starting at 1.
  public let attempt: Int32
  /// The batch the job belongs to, if any.
  public let batchID: Int64?
  /// How long the job may run before it is stopped as timed out (nil: no limit).
  public let timeout: Duration?
  /// This attempt's fencing token (nil in unit tests without a queue): kinds that write outside
  /// the job's result (training artifacts) check it in their write's transaction.
  public let leaseToken: Int64?
  private let state = Mutex(State())
  private let stopSignal = WakeSignal()

  public init(
    jobID: Int64, queue: String, attempt: Int32, batchID: Int64?, timeout: Duration? = nil,
    leaseToken: Int64? = nil
  ) {
    self.leaseToken = leaseToken
    self.jobID = jobID
    self.queue = queue
    self.attempt = attempt
    self.batchID = batchID
    self.timeout = timeout
  }

  /// The error a timed-out job fails with: "timed out after 30 s".
  public var timeoutMessage: String {
    guard let timeout else { return "timed out" }
    let seconds = timeout.seconds
    let text =
      seconds == seconds.rounded()
      ? String(Int64(seconds)) : String((seconds * 1000).rounded() / 1000)
    return "timed out after \(text) s"
  }

  /// Records progress (for example the fraction done); sent with the next heartbeat.
  public func reportProgress(_ value: Double) {
    state.withLock { $0.progress = value }
  }

  /// Reads progress from `source` whenever it is needed (each heartbeat), for work that counts its
  /// own progress on another thread (an engine request's tokens); replaces `reportProgress`.
  public func reportProgress(from source: @escaping @Sendable () -> Double) {
    state.withLock { $0.progressSource = source }
  }

  /// The latest progress reported.
  public var progress: Double? {
    let (value, source) = state.withLock { ($0.progress, $0.progressSource) }
    return source?() ?? value
  }

  /// Why the job should stop, or nil to keep going.
  public var stopReason: StopReason? { state.withLock { $0.stopReason } }

  /// Throws `JobFailure.cancelled` if the job should stop. Long jobs call it between steps.
  public func checkStop() throws {
    if let reason = stopReason {
      throw JobFailure(.cancelled, "stopped: \(reason.rawValue)")
    }
  }

  /// Sleeps for `duration`, or until the job is asked to stop (then throws
  /// `JobFailure.cancelled`).
  public func sleep(for duration: Duration) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now + duration
    while true {
      try checkStop()
      let remaining = clock.now.duration(to: deadline)
      if remaining <= .zero { return }
      try Task.checkCancellation()
      await stopSignal.wait(timeout: remaining)
    }
  }

  /// Calls `handler` once when the job is asked to stop (at once if it already was), from the
  /// task that asks. Code that cannot poll `stopReason` (an engine thread) hooks its own
  /// cancellation here; the handler must be quick and must not block.
  public func onStop(_ handler: @escaping @Sendable () -> Void) {
    let stopped = state.withLock { state -> Bool in
      if state.stopReason != nil { return true }
      state.stopHandlers.append(handler)
      return false
    }
    if stopped { handler() }
  }

  /// Asks the job to stop (the first reason wins).
  func requestStop(_ reason: StopReason) {
    let handlers = state.withLock { state -> [@Sendable () -> Void]? in
      guard state.stopReason == nil else { return nil }
      state.stopReason = reason
      defer { state.stopHandlers.removeAll() }
      return state.stopHandlers
    }
    guard let handlers else { return }
    stopSignal.signal()
    for handler in handlers { handler() }
  }
}
