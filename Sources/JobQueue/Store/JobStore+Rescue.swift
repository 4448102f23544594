public import Foundation
public import Postgres

/// A rescue pass over expired leases.
public struct JobRescueParams: Sendable {
  /// The most jobs to rescue in one statement. Default 1,000.
  public var limit: Int
  /// The clock; nil: the server's `now()`.
  public var now: Date?

  public init(limit: Int = 1000, now: Date? = nil) {
    self.limit = limit
    self.now = now
  }
}

/// One job a rescue moved.
public struct RescuedJob: Sendable, Hashable {
  public var id: Int64
  /// `available` (retry), `dead` (quarantined) or `cancelled` (a cancel was pending).
  public var state: JobState

  public init(id: Int64, state: JobState) {
    self.id = id
    self.state = state
  }
}

extension JobStore {
  static let jobRescueExpiredSQL = """
    WITH clock AS (SELECT coalesce($2::timestamptz, now()) AS now),
    -- The candidates are locked (SKIP LOCKED: a holder completing right now is simply skipped);
    -- their pre-update lease is kept for the evidence.
    expired AS (
      SELECT id, attempt, lease_owner, attempted_at, lease_expires_at FROM jobs
      WHERE id = ANY(ARRAY(
        SELECT id FROM jobs
        WHERE state = 'running' AND lease_expires_at < (SELECT now FROM clock)
        ORDER BY lease_expires_at
        LIMIT $1
        FOR UPDATE SKIP LOCKED))),
    done AS (
      UPDATE jobs j SET
        state = (CASE
          WHEN j.cancel_requested_at IS NOT NULL THEN 'cancelled'
          WHEN j.crash_count + 1 >= j.max_crashes THEN 'dead'
          ELSE 'available' END)::job_state,
        crash_count = j.crash_count + 1,
        last_error = CASE
          WHEN j.cancel_requested_at IS NOT NULL THEN 'cancelled (its worker stopped responding)'
          WHEN j.crash_count + 1 >= j.max_crashes THEN
            'quarantined: its lease expired ' || (j.crash_count + 1)
            || ' times (the job may be killing its worker); see its crash evidence'
          ELSE j.last_error END,
        finished_at = CASE
          WHEN j.cancel_requested_at IS NOT NULL OR j.crash_count + 1 >= j.max_crashes
          THEN clock.now END,
        lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL
      FROM expired e, clock
      -- The guard, re-checked on the locked current row: a job that completed or got a fresh
      -- lease since the candidates were chosen is never overwritten.
      WHERE j.id = e.id AND j.state = 'running' AND j.lease_expires_at < clock.now
      RETURNING j.id, j.state, j.has_dependents, j.queue, e.attempt, e.lease_owner,
        e.attempted_at, e.lease_expires_at),
    evidence AS (
      INSERT INTO job_crashes (job_id, attempt, worker_id, host, pid, claimed_at,
                               lease_expired_at, detected_at)
      SELECT d.id, d.attempt, d.lease_owner, w.host, w.pid, d.attempted_at, d.lease_expires_at,
        (SELECT now FROM clock)
      FROM done d LEFT JOIN workers w ON w.id = d.lease_owner
      ON CONFLICT (job_id, attempt) DO NOTHING),
    requeued AS (
      SELECT pg_notify('trolley_jobs', q.queue)
      FROM (SELECT DISTINCT queue FROM done WHERE state = 'available') q)
    SELECT done.id, done.state::text, done.has_dependents, (SELECT count(*) FROM requeued)
    FROM done
    """

  /// Moves jobs whose lease expired back to `available`, or to `dead` when the crash budget is
  /// spent (quarantine), or to `cancelled` when a cancel was pending; writes one `job_crashes`
  /// row per job as evidence. Never touches a job that completed or whose lease was renewed.
  /// The dependents of jobs it ended are settled by a second statement (see
  /// `jobSettleDependentsSQL`).
  public func jobRescueExpired(_ params: JobRescueParams, on connection: PostgresConnection)
    throws -> [RescuedJob]
  {
    let rows = try connection.query(
      Self.jobRescueExpiredSQL, [Int64(params.limit), params.now], name: "jobRescueExpired")
    var ended: [Int64] = []
    let rescued = try rows.map { row in
      let (id, state, hasDependents) = try row.decode((Int64, String, Bool).self)
      let rescued = RescuedJob(id: id, state: JobState(rawValue: state) ?? .available)
      if hasDependents && rescued.state != .available { ended.append(id) }
      return rescued
    }
    try jobSettleDependents(of: ended, now: params.now, on: connection)
    return rescued
  }

  /// Rescues on a pooled connection. See `jobRescueExpired(_:on:)`.
  public func jobRescueExpired(_ params: JobRescueParams) async throws -> [RescuedJob] {
    try await withConnection { try self.jobRescueExpired(params, on: $0) }
  }
}
