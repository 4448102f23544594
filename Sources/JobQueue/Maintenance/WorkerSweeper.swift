public import Foundation
public import Logging
public import ServiceLifecycle

/// Marks workers that stopped heartbeating as stale and expires their jobs' leases at once, so
/// the rescuer takes those jobs without waiting for each lease to run out.
public struct WorkerSweeper: Service {
  public struct Configuration: Sendable {
    /// Pause between passes. Default 10 s.
    public var interval: Duration
    /// A worker silent for longer than this is stale. Default 60 s (several heartbeats).
    public var staleAfter: Duration

    public init(interval: Duration = .seconds(10), staleAfter: Duration = .seconds(60)) {
      precondition(interval > .zero, "WorkerSweeper.interval must be positive")
      precondition(staleAfter > .zero, "WorkerSweeper.staleAfter must be positive")
      self.interval = interval
      self.staleAfter = staleAfter
    }
  }

  public typealias RunOnceResult = WorkerSweepResult

  public let store: JobStore
  public let configuration: Configuration
  let logger: Logger
  /// Called after every pass (tests await it instead of sleeping).
  let onPass: (@Sendable (RunOnceResult) -> Void)?

  public init(
    store: JobStore, configuration: Configuration = .init(),
    logger: Logger = Logger(label: "trolley.worker-sweeper"),
    onPass: (@Sendable (RunOnceResult) -> Void)? = nil
  ) {
    self.store = store
    self.configuration = configuration
    self.logger = logger
    self.onPass = onPass
  }

  public func run() async throws {
    await MaintenanceSchedule(interval: configuration.interval).run {
      let result = try await runOnce()
      if !result.staleWorkers.isEmpty {
        logger.notice(
          "marked silent workers stale",
          metadata: [
            "workers": "\(result.staleWorkers)", "expired_leases": "\(result.expiredLeases)",
          ])
      }
      onPass?(result)
    } failed: { error in
      logger.warning("worker sweep failed", metadata: ["error": "\(error)"])
    }
  }

  /// One pass at time `now` (nil: the server's clock).
  public func runOnce(now: Date? = nil) async throws -> RunOnceResult {
    try await store.workerSweepStale(.init(staleAfter: configuration.staleAfter, now: now))
  }
}
