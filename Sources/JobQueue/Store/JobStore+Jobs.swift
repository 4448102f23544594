public import Foundation
public import Postgres

/// Everything the queue knows about one job.
public struct JobRecord: Sendable, Hashable {
  public var id: Int64
  public var queue: String
  public var kind: String
  public var payload: PostgresJSONB
  public var priority: Int16
  public var state: JobState
  public var runAt: Date
  public var attempt: Int32
  public var maxAttempts: Int32
  public var errorCount: Int32
  public var maxCrashes: Int32
  public var crashCount: Int32
  public var leaseOwner: Int64?
  public var leaseToken: Int64?
  public var leaseExpiresAt: Date?
  public var cancelRequestedAt: Date?
  public var progress: Double?
  public var lastError: String?
  public var result: PostgresJSONB?
  public var batchID: Int64?
  public var uniqueKey: String?
  public var pendingDependencies: Int32
  public var createdAt: Date
  public var attemptedAt: Date?
  public var finishedAt: Date?
  /// The worker whose report ended the latest attempt (nil until one did).
  public var finishedBy: Int64?
}

/// One expired lease of a job: the evidence kept for quarantine.
public struct JobCrash: Sendable, Hashable {
  public var jobID: Int64
  public var attempt: Int32
  public var workerID: Int64?
  public var host: String?
  public var pid: Int32?
  public var claimedAt: Date?
  public var leaseExpiredAt: Date
  public var detectedAt: Date
}

extension JobStore {
  static let jobGetSQL = """
    SELECT id, queue, kind, payload, priority, state::text, run_at, attempt, max_attempts,
      error_count, max_crashes, crash_count, lease_owner, lease_token, lease_expires_at,
      cancel_requested_at, progress, last_error, result, batch_id, unique_key,
      pending_dependencies, created_at, attempted_at, finished_at, finished_by
    FROM jobs WHERE id = $1
    """

  static let jobCrashesSQL = """
    SELECT job_id, attempt, worker_id, host, pid, claimed_at, lease_expired_at, detected_at
    FROM job_crashes WHERE job_id = $1 ORDER BY attempt
    """

  /// The job with this id, or nil (never existed or pruned).
  public func jobGet(id: Int64, on connection: PostgresConnection) throws -> JobRecord? {
    guard let row = try connection.query(Self.jobGetSQL, [id], name: "jobGet").first else {
      return nil
    }
    return JobRecord(
      id: try row.decode(0), queue: try row.decode(1), kind: try row.decode(2),
      payload: try row.decode(3), priority: try row.decode(4),
      state: JobState(rawValue: try row.decode(5)) ?? .available, runAt: try row.decode(6),
      attempt: try row.decode(7), maxAttempts: try row.decode(8), errorCount: try row.decode(9),
      maxCrashes: try row.decode(10), crashCount: try row.decode(11),
      leaseOwner: try row.decode(12), leaseToken: try row.decode(13),
      leaseExpiresAt: try row.decode(14), cancelRequestedAt: try row.decode(15),
      progress: try row.decode(16), lastError: try row.decode(17), result: try row.decode(18),
      batchID: try row.decode(19), uniqueKey: try row.decode(20),
      pendingDependencies: try row.decode(21), createdAt: try row.decode(22),
      attemptedAt: try row.decode(23), finishedAt: try row.decode(24),
      finishedBy: try row.decode(25))
  }

  /// Looks up on a pooled connection. See `jobGet(id:on:)`.
  public func jobGet(id: Int64) async throws -> JobRecord? {
    try await withConnection { try self.jobGet(id: id, on: $0) }
  }

  /// The crash evidence of a job, oldest first.
  public func jobCrashes(jobID: Int64, on connection: PostgresConnection) throws -> [JobCrash] {
    try connection.query(Self.jobCrashesSQL, [jobID], name: "jobCrashes").map { row in
      JobCrash(
        jobID: try row.decode(0), attempt: try row.decode(1), workerID: try row.decode(2),
        host: try row.decode(3), pid: try row.decode(4), claimedAt: try row.decode(5),
        leaseExpiredAt: try row.decode(6), detectedAt: try row.decode(7))
    }
  }

  /// Crash evidence on a pooled connection. See `jobCrashes(jobID:on:)`.
  public func jobCrashes(jobID: Int64) async throws -> [JobCrash] {
    try await withConnection { try self.jobCrashes(jobID: jobID, on: $0) }
  }
}
