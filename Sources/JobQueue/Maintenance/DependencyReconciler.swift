public import Foundation
public import Logging

/// Releases waiting jobs whose dependencies all succeeded, and cancels those under a dependency
/// that ended dead or cancelled, when the release that should have done it was lost (a process
/// that died between a completion and the settling of its dependents). Completions settle their
/// dependents themselves; this is the safety net that makes "stuck in waiting" impossible.
public struct DependencyReconciler: MaintenanceDuty {
  public struct Configuration: MaintenanceConfiguration {
    /// Pause between passes (each pass walks every waiting job). Default 30 s.
    public var interval: Duration
    /// Waiting jobs per statement. Default 1,000.
    public var limit: Int
    /// Pause between two statements of one pass. Default 20 ms.
    public var pause: Duration

    public init(
      interval: Duration = .seconds(30), limit: Int = 1000, pause: Duration = .milliseconds(20)
    ) {
      precondition(interval > .zero, "DependencyReconciler.interval must be positive")
      precondition(limit >= 1, "DependencyReconciler.limit must be at least 1")
      self.interval = interval
      self.limit = limit
      self.pause = pause
    }
  }

  public typealias RunOnceResult = JobSettleResult

  public static let name = "dependency-reconciler"
  let store: JobStore
  public var configuration = Configuration()

  public func pass(logger: Logger) async throws -> RunOnceResult {
    let result = try await runOnce()
    if result.released + result.cancelled > 0 {
      logger.notice(
        "settled waiting jobs whose release was lost",
        metadata: ["released": "\(result.released)", "cancelled": "\(result.cancelled)"])
    }
    return result
  }

  /// One pass over every waiting job, at time `now` (nil: the server's clock).
  public func runOnce(now: Date? = nil) async throws -> RunOnceResult {
    var total = JobSettleResult(released: 0, cancelled: 0)
    var cursor: Int64 = 0
    let limit = configuration.limit
    while true {
      let after = cursor
      let page = try await store.withConnection {
        try self.store.jobReconcileWaiting(after: after, limit: limit, now: now, on: $0)
      }
      total.released += page.settled.released
      total.cancelled += page.settled.cancelled
      guard let next = page.next else { return total }
      cursor = next
      try await Task.sleep(for: configuration.pause)
    }
  }
}
