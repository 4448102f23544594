public import Foundation
public import Logging

/// Deletes finished jobs older than their retention age, in small statements with short pauses
/// between them, so it never holds long locks or builds a long transaction (which would pin the
/// xmin horizon and bloat the hot table).
public struct RetentionCleaner: MaintenanceDuty {
  public struct Configuration: MaintenanceConfiguration {
    /// How long cancelled jobs are kept. Default 7 days.
    public var cancelledAge: Duration
    /// How long dead jobs are kept (they may be retried). Default 7 days.
    public var deadAge: Duration
    /// Pause between passes. Default 60 s.
    public var interval: Duration
    /// Rows per statement. Default 1,000.
    public var limit: Int
    /// Pause between two statements of one pass. Default 20 ms.
    public var pause: Duration
    /// How long succeeded jobs (and their results) are kept; nil (the default): for ever.
    /// Deleting results is the operator's choice (`trolley worker --retain-succeeded 30d`), and
    /// even then a batch that still has unfinished jobs keeps all of its succeeded ones.
    public var succeededAge: Duration?
    /// How long rows of stopped or stale workers are kept. Default 7 days.
    public var workerAge: Duration

    public init(
      cancelledAge: Duration = .seconds(7 * 86_400), deadAge: Duration = .seconds(7 * 86_400),
      interval: Duration = .seconds(60), limit: Int = 1000, pause: Duration = .milliseconds(20),
      succeededAge: Duration? = nil, workerAge: Duration = .seconds(7 * 86_400)
    ) {
      precondition(interval > .zero, "RetentionCleaner.interval must be positive")
      precondition(limit >= 1, "RetentionCleaner.limit must be at least 1")
      precondition(
        cancelledAge >= .zero && deadAge >= .zero && (succeededAge ?? .zero) >= .zero
          && workerAge >= .zero,
        "RetentionCleaner ages must not be negative")
      self.cancelledAge = cancelledAge
      self.deadAge = deadAge
      self.interval = interval
      self.limit = limit
      self.pause = pause
      self.succeededAge = succeededAge
      self.workerAge = workerAge
    }
  }

  /// What one pass did.
  public struct RunOnceResult: Sendable, Hashable {
    /// Jobs deleted per terminal state.
    public var deleted: [JobState: Int]
    public var workersDeleted: Int
  }

  public static let name = "retention"
  let store: JobStore
  public var configuration = Configuration()

  public func pass(logger: Logger) async throws -> RunOnceResult {
    let result = try await runOnce()
    let total = result.deleted.values.reduce(0, +)
    if total > 0 {
      logger.info("pruned finished jobs", metadata: ["deleted": "\(total)"])
    }
    return result
  }

  /// One pass at time `now` (nil: the server's clock).
  public func runOnce(now: Date? = nil) async throws -> RunOnceResult {
    var result = RunOnceResult(deleted: [:], workersDeleted: 0)
    var ages: [(JobState, Duration)] = [
      (.dead, configuration.deadAge), (.cancelled, configuration.cancelledAge),
    ]
    if let succeededAge = configuration.succeededAge {
      ages.insert((.succeeded, succeededAge), at: 0)
    }
    for (state, age) in ages {
      result.deleted[state] = try await repeatWhileFull(
        limit: configuration.limit, pausing: configuration.pause
      ) {
        try await store.jobDeleteFinished(
          .init(state: state, olderThan: age, limit: configuration.limit, now: now))
      }
    }
    let workerAge = configuration.workerAge
    result.workersDeleted = try await store.withConnection {
      try self.store.workerDeleteStopped(olderThan: workerAge, now: now, on: $0)
    }
    return result
  }
}
