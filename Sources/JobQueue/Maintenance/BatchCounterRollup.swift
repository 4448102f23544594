public import Logging

/// Folds the per-statement counter deltas into `batch_counts` and `batch_minutes`, keeping the
/// delta table (and so every status read) small. Counts are exact whether or not it has run.
public struct BatchCounterRollup: MaintenanceDuty {
  public struct Configuration: MaintenanceConfiguration {
    /// Pause between passes. Default 1 s.
    public var interval: Duration
    /// Deltas per statement; a pass repeats while statements come back full. Default 10,000.
    public var limit: Int

    public init(interval: Duration = .seconds(1), limit: Int = 10_000) {
      precondition(interval > .zero, "BatchCounterRollup.interval must be positive")
      precondition(limit >= 1, "BatchCounterRollup.limit must be at least 1")
      self.interval = interval
      self.limit = limit
    }
  }

  /// What one pass did.
  public struct RunOnceResult: Sendable, Hashable {
    public var folded: Int
  }

  public static let name = "batch-counter-rollup"
  let store: JobStore
  public var configuration = Configuration()

  public func pass(logger: Logger) async throws -> RunOnceResult {
    try await runOnce()
  }

  /// One pass.
  public func runOnce() async throws -> RunOnceResult {
    let folded = try await repeatWhileFull(limit: configuration.limit) {
      try await store.batchCountsRollup(limit: configuration.limit)
    }
    return RunOnceResult(folded: folded)
  }
}
