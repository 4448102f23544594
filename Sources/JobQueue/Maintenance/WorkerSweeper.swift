public import Foundation
public import Logging

/// Marks workers that stopped heartbeating as stale and expires their jobs' leases at once, so
/// the rescuer takes those jobs without waiting for each lease to run out.
public struct WorkerSweeper: MaintenanceDuty {
  public struct Configuration: MaintenanceConfiguration {
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

  public static let name = "worker-sweeper"
  let store: JobStore
  public var configuration = Configuration()

  public func pass(logger: Logger) async throws -> RunOnceResult {
    let result = try await runOnce()
    if !result.staleWorkers.isEmpty {
      logger.notice(
        "marked silent workers stale",
        metadata: [
          "workers": "\(result.staleWorkers)", "expired_leases": "\(result.expiredLeases)",
        ])
    }
    return result
  }

  /// One pass at time `now` (nil: the server's clock).
  public func runOnce(now: Date? = nil) async throws -> RunOnceResult {
    try await store.workerSweepStale(.init(staleAfter: configuration.staleAfter, now: now))
  }
}
