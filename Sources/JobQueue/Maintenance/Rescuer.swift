public import Foundation
public import Logging

/// Returns jobs whose lease expired (their worker crashed, was killed, or lost the database) to
/// `available`, or quarantines them when their crash budget is spent, keeping the evidence.
public struct Rescuer: MaintenanceDuty {
  public struct Configuration: MaintenanceConfiguration {
    /// Pause between passes. Default 5 s: a crashed worker's jobs are back within one lease
    /// period plus this.
    public var interval: Duration
    /// Jobs per statement; a pass repeats while statements come back full. Default 1,000.
    public var limit: Int

    public init(interval: Duration = .seconds(5), limit: Int = 1000) {
      precondition(interval > .zero, "Rescuer.interval must be positive")
      precondition(limit >= 1, "Rescuer.limit must be at least 1")
      self.interval = interval
      self.limit = limit
    }
  }

  /// What one pass did.
  public struct RunOnceResult: Sendable, Hashable {
    public var rescued: [RescuedJob]
  }

  public static let name = "rescuer"
  let store: JobStore
  public var configuration = Configuration()

  public func pass(logger: Logger) async throws -> RunOnceResult {
    let result = try await runOnce()
    for job in result.rescued {
      logger.notice(
        "rescued a job whose lease expired",
        metadata: ["job_id": "\(job.id)", "state": "\(job.state.rawValue)"])
    }
    return result
  }

  /// One pass at time `now` (nil: the server's clock).
  public func runOnce(now: Date? = nil) async throws -> RunOnceResult {
    var rescued: [RescuedJob] = []
    _ = try await repeatWhileFull(limit: configuration.limit) {
      let batch = try await store.jobRescueExpired(.init(limit: configuration.limit, now: now))
      rescued += batch
      return batch.count
    }
    return RunOnceResult(rescued: rescued)
  }
}
