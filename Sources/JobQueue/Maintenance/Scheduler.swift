public import Foundation
public import Logging

/// Makes scheduled and retrying jobs available once their `run_at` has passed (and wakes the
/// workers of their queues).
public struct Scheduler: MaintenanceDuty {
  public struct Configuration: MaintenanceConfiguration {
    /// Pause between passes. Default 1 s (the granularity of retry backoff and scheduling).
    public var interval: Duration
    /// Jobs per statement; a pass repeats while statements come back full. Default 5,000.
    public var limit: Int

    public init(interval: Duration = .seconds(1), limit: Int = 5000) {
      precondition(interval > .zero, "Scheduler.interval must be positive")
      precondition(limit >= 1, "Scheduler.limit must be at least 1")
      self.interval = interval
      self.limit = limit
    }
  }

  /// What one pass did.
  public struct RunOnceResult: Sendable, Hashable {
    public var promoted: Int
  }

  public static let name = "scheduler"
  let store: JobStore
  public var configuration = Configuration()

  public func pass(logger: Logger) async throws -> RunOnceResult {
    try await runOnce()
  }

  /// One pass at time `now` (nil: the server's clock).
  public func runOnce(now: Date? = nil) async throws -> RunOnceResult {
    let promoted = try await repeatWhileFull(limit: configuration.limit) {
      try await store.jobPromoteDue(.init(limit: configuration.limit, now: now))
    }
    return RunOnceResult(promoted: promoted)
  }
}
