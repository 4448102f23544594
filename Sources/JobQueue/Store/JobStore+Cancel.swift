public import Foundation
public import Postgres

/// Which jobs to cancel: by id, by batch, or both.
public struct JobCancelParams: Sendable {
  public var ids: [Int64]
  public var batchID: Int64?
  /// Recorded as the jobs' last error; default "cancelled by an operator".
  public var reason: String?
  /// The clock; nil: the server's `now()`.
  public var now: Date?

  public init(ids: [Int64] = [], batchID: Int64? = nil, reason: String? = nil, now: Date? = nil) {
    self.ids = ids
    self.batchID = batchID
    self.reason = reason
    self.now = now
  }
}

/// What a cancel did.
public struct JobCancelResult: Sendable, Hashable {
  /// Queued jobs (waiting, scheduled, available, retrying) now cancelled.
  public var cancelled: Int
  /// Running jobs whose worker will learn of the cancel at its next heartbeat.
  public var requested: Int
  /// Waiting dependents cancelled with them.
  public var cancelledDependents: Int
}

extension JobStore {
  static let jobCancelSQL = """
    WITH RECURSIVE clock AS (SELECT coalesce($4::timestamptz, now()) AS now),
    targets AS (
      SELECT id FROM jobs WHERE id = ANY($1::bigint[])
      UNION
      SELECT id FROM jobs WHERE batch_id = $2::bigint
        AND state IN ('waiting', 'scheduled', 'available', 'running', 'retrying')),
    done AS (
      UPDATE jobs j SET
        state = 'cancelled', finished_at = clock.now,
        last_error = coalesce($3::text, 'cancelled by an operator')
      FROM clock
      WHERE j.id IN (SELECT id FROM targets)
        AND j.state IN ('waiting', 'scheduled', 'available', 'retrying')
      RETURNING j.id, j.state, j.has_dependents, j.queue),
    -- A running job is only marked: its worker stops it at its next heartbeat and acknowledges,
    -- or the rescuer finishes the cancel if the worker is gone.
    requested AS (
      UPDATE jobs j SET cancel_requested_at = clock.now
      FROM clock
      WHERE j.id IN (SELECT id FROM targets) AND j.state = 'running'
        AND j.cancel_requested_at IS NULL
      RETURNING j.id),
    \(dependencyResolutionCTEs)
    SELECT (SELECT count(*) FROM done), (SELECT count(*) FROM requested),
      (SELECT count(*) FROM doomed), (SELECT count(*) FROM woken)
    """

  /// Cancels queued jobs at once and asks the workers of running ones to stop; waiting
  /// dependents of cancelled jobs are cancelled too. Finished jobs are left alone.
  public func jobCancel(_ params: JobCancelParams, on connection: PostgresConnection) throws
    -> JobCancelResult
  {
    let row = try connection.query(
      Self.jobCancelSQL, [params.ids, params.batchID, params.reason, params.now], name: "jobCancel"
    ).single()
    let (cancelled, requested, doomed, _) = try row.decode((Int64, Int64, Int64, Int64).self)
    return JobCancelResult(
      cancelled: Int(cancelled), requested: Int(requested), cancelledDependents: Int(doomed))
  }

  /// Cancels on a pooled connection. See `jobCancel(_:on:)`.
  public func jobCancel(_ params: JobCancelParams) async throws -> JobCancelResult {
    try await withConnection { try self.jobCancel(params, on: $0) }
  }
}
