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
    WITH clock AS (SELECT coalesce($4::timestamptz, now()) AS now),
    targets AS (
      SELECT id FROM jobs WHERE id = ANY($1::bigint[])
      UNION
      SELECT id FROM jobs WHERE batch_id = $2::bigint
        AND state IN ('waiting', 'scheduled', 'available', 'running', 'retrying')),
    -- One update for queued and running jobs alike, its SET deciding on the row as locked: a job
    -- claimed (or handed back) while this statement waited for its lock is re-read, and gets the
    -- treatment of the state it is in now. Two updates, one per state, would each filter on the
    -- state this statement's snapshot saw, and a job claimed meanwhile would match neither.
    -- A running job is only marked: its worker stops it at its next heartbeat and acknowledges,
    -- or the rescuer finishes the cancel if the worker is gone.
    done AS (
      UPDATE jobs j SET
        state = (CASE WHEN j.state = 'running' THEN 'running' ELSE 'cancelled' END)::job_state,
        finished_at = CASE WHEN j.state = 'running' THEN NULL ELSE clock.now END,
        last_error = CASE WHEN j.state = 'running' THEN j.last_error
          ELSE coalesce($3::text, 'cancelled by an operator') END,
        cancel_requested_at = CASE WHEN j.state = 'running'
          THEN coalesce(j.cancel_requested_at, clock.now) ELSE j.cancel_requested_at END
      FROM clock
      WHERE j.id IN (SELECT id FROM targets)
        AND j.state IN ('waiting', 'scheduled', 'available', 'retrying', 'running')
        AND NOT (j.state = 'running' AND j.cancel_requested_at IS NOT NULL)
      RETURNING j.id, j.state, j.has_dependents)
    SELECT (SELECT count(*) FROM done WHERE state = 'cancelled'),
      (SELECT count(*) FROM done WHERE state = 'running'),
      (SELECT array_agg(id) FROM done WHERE state = 'cancelled' AND has_dependents)
    """

  /// Cancels queued jobs at once and asks the workers of running ones to stop; waiting
  /// dependents of cancelled jobs are cancelled too (by a second statement that sees every edge
  /// committed meanwhile). Finished jobs are left alone.
  public func jobCancel(_ params: JobCancelParams, on connection: PostgresConnection) throws
    -> JobCancelResult
  {
    let row = try connection.query(
      Self.jobCancelSQL, [params.ids, params.batchID, params.reason, params.now], name: "jobCancel"
    ).single()
    let (cancelled, requested, ended) = try row.decode((Int64, Int64, [Int64]?).self)
    let settled = try jobSettleDependents(of: ended ?? [], now: params.now, on: connection)
    return JobCancelResult(
      cancelled: Int(cancelled), requested: Int(requested),
      cancelledDependents: settled.cancelled)
  }

  /// Cancels on a pooled connection. See `jobCancel(_:on:)`.
  public func jobCancel(_ params: JobCancelParams) async throws -> JobCancelResult {
    try await withConnection { try self.jobCancel(params, on: $0) }
  }
}
