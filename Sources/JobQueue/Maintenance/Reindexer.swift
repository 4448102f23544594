public import Foundation
public import Logging
import Synchronization

/// Rebuilds the queue's hot indexes with `REINDEX INDEX CONCURRENTLY` once per `interval` across
/// the whole fleet: every worker runs it, an advisory lock lets one of them work at a time, and a
/// record of the last run keeps the others from repeating it. Claims and acknowledgements go on
/// during the rebuild (CONCURRENTLY takes no lock that blocks them); the indexes shrink back to
/// their live entries, which keeps claims fast on tables with millions of finished jobs.
public struct Reindexer: MaintenanceDuty {
  public struct Configuration: Sendable {
    /// How often the fleet rebuilds the indexes. Default 24 h.
    public var interval: Duration
    /// How often each worker checks whether a rebuild is due. Default 10 min (or `interval`, if
    /// shorter).
    public var checkInterval: Duration
    /// The indexes rebuilt, in order. Default `JobStore.hotIndexes`.
    public var indexes: [String]

    public init(
      interval: Duration = .seconds(86_400), checkInterval: Duration = .seconds(600),
      indexes: [String] = JobStore.hotIndexes
    ) {
      precondition(interval > .zero, "Reindexer.interval must be positive")
      precondition(checkInterval > .zero, "Reindexer.checkInterval must be positive")
      self.interval = interval
      self.checkInterval = min(checkInterval, interval)
      self.indexes = indexes
    }
  }

  public typealias RunOnceResult = IndexReindexResult

  public static let name = "reindexer"
  let store: JobStore
  public var configuration = Configuration()
  /// Whether the "not the owner" notice was logged (once per process).
  let noted = OnceFlag()

  public var interval: Duration { configuration.checkInterval }

  public func pass(logger: Logger) async throws -> RunOnceResult {
    let clock = ContinuousClock()
    let start = clock.now
    let result = try await runOnce()
    if result.outcome == .notOwner {
      // Said once per process: the pass keeps being skipped until the role changes.
      if noted.claim() {
        logger.notice(
          "skipping the reindex: this worker's database role does not own the queue's tables (a least-privileged worker role); run the workers' maintenance once as the owner, e.g. `trolley worker --kinds noop --once` with the owner's URL, to rebuild them"
        )
      }
    }
    if result.outcome == .reindexed {
      logger.info(
        "rebuilt the queue's hot indexes",
        metadata: [
          "indexes": "\(result.reindexed)", "dropped_leftovers": "\(result.droppedLeftovers)",
          "seconds": "\(start.duration(to: clock.now))",
        ])
    }
    return result
  }

  /// One pass at time `now` (nil: the server's clock).
  public func runOnce(now: Date? = nil) async throws -> RunOnceResult {
    try await store.indexReindex(
      .init(indexes: configuration.indexes, interval: configuration.interval, now: now))
  }
}

/// True the first time `claim()` is called, false after.
final class OnceFlag: Sendable {
  private let claimed = Mutex(false)

  func claim() -> Bool {
    claimed.withLock { claimed in
      defer { claimed = true }
      return !claimed
    }
  }
}
