public import Foundation
public import Postgres

/// What settling dependents did.
public struct JobSettleResult: Sendable, Hashable {
  /// Waiting dependents whose dependencies have now all succeeded (now `available`, or
  /// `scheduled` when their `run_at` is still ahead).
  public var released: Int
  /// Waiting dependents cancelled because a dependency ended dead or cancelled (with the chain
  /// below them).
  public var cancelled: Int
}

extension JobStore {
  /// Settles the waiting dependents of the jobs in `$1`, reading every state afresh.
  ///
  /// Why a statement of its own, run after the statement that ended the dependencies committed:
  /// a statement sees the rows committed when it started. An enqueue that locked a dependency,
  /// added its edge and committed while a completion waited for that lock is invisible to the
  /// completion's own statement, whose dependent would then stay `waiting` forever. This
  /// statement starts after the completion committed, so it sees every edge committed before
  /// (and an enqueue after it reads the dependency's final state under its lock).
  ///
  /// Counts are recomputed, never decremented, so running it twice (or concurrently with the
  /// reconciler) changes nothing more; `pending_dependencies` only ever goes down, so a statement
  /// with an older snapshot cannot raise it again.
  static let jobSettleDependentsSQL = """
    WITH RECURSIVE clock AS (SELECT coalesce($2::timestamptz, now()) AS now),
    -- Every waiting job downstream of a dependency that ended dead or cancelled can never run.
    chain (job_id, cause, cause_state) AS (
      SELECT dep.job_id, dep.depends_on, p.state::text
      FROM job_dependencies dep JOIN jobs p ON p.id = dep.depends_on
      WHERE dep.depends_on = ANY($1::bigint[]) AND p.state IN ('dead', 'cancelled')
      UNION
      SELECT dep.job_id, dep.depends_on, 'cancelled'
      FROM job_dependencies dep JOIN chain ON dep.depends_on = chain.job_id
    ),
    doomed AS (
      UPDATE jobs j SET
        state = 'cancelled',
        finished_at = (SELECT now FROM clock),
        cancelled_by = c.cause,
        last_error = 'cancelled: dependency ' || c.cause || ' ended ' || c.cause_state
      FROM (SELECT DISTINCT ON (job_id) job_id, cause, cause_state FROM chain
            ORDER BY job_id, cause) c
      WHERE j.id = c.job_id AND j.state = 'waiting'
      RETURNING j.id),
    -- The other dependents: how many of their dependencies have not succeeded. A dependent also
    -- doomed above is left to that update (two updates of one row in one statement would race).
    counted AS (
      SELECT dep.job_id, count(*) FILTER (WHERE p.state <> 'succeeded')::integer AS n
      FROM job_dependencies dep JOIN jobs p ON p.id = dep.depends_on
      WHERE dep.job_id IN (SELECT d.job_id FROM job_dependencies d
                           WHERE d.depends_on = ANY($1::bigint[]))
        AND dep.job_id NOT IN (SELECT job_id FROM chain)
      GROUP BY dep.job_id),
    released AS (
      UPDATE jobs j SET
        pending_dependencies = c.n,
        state = (CASE WHEN c.n > 0 THEN 'waiting'
                      WHEN j.run_at > (SELECT now FROM clock) THEN 'scheduled'
                      ELSE 'available' END)::job_state
      FROM counted c
      WHERE j.id = c.job_id AND j.state = 'waiting' AND c.n < j.pending_dependencies
      RETURNING j.id, j.queue, j.state),
    woken AS (
      SELECT pg_notify('trolley_jobs', q.queue)
      FROM (SELECT DISTINCT queue FROM released WHERE state = 'available') q)
    SELECT (SELECT count(*) FROM released WHERE state <> 'waiting'), (SELECT count(*) FROM doomed),
      (SELECT count(*) FROM woken)
    """

  /// Releases or cancels the waiting dependents of `ids` (jobs that just ended), from the states
  /// committed now. Completion, rescue, cancel and retry call it right after the statement that
  /// ended the jobs; the `DependencyReconciler` catches whatever a crash in between left.
  @discardableResult
  public func jobSettleDependents(
    of ids: [Int64], now: Date? = nil, on connection: PostgresConnection
  ) throws -> JobSettleResult {
    guard !ids.isEmpty else { return JobSettleResult(released: 0, cancelled: 0) }
    let row = try connection.query(
      Self.jobSettleDependentsSQL, [ids, now], name: "jobSettleDependents"
    ).single()
    let (released, cancelled, _) = try row.decode((Int64, Int64, Int64).self)
    return JobSettleResult(released: Int(released), cancelled: Int(cancelled))
  }

  static let jobReconcileWaitingSQL = """
    -- One page of waiting jobs, by id after the cursor (jobs_waiting_idx).
    WITH clock AS (SELECT coalesce($3::timestamptz, now()) AS now),
    page AS (
      SELECT id FROM jobs WHERE state = 'waiting' AND id > $1 ORDER BY id LIMIT $2),
    -- Waiting with no dependency left unfinished (its release was lost: a crash between a
    -- completion and its settling, or an edge the completion could not see). A dependency that
    -- succeeded never un-succeeds, so no concurrent statement can make this wrong.
    ready AS (
      SELECT p.id FROM page p
      WHERE NOT EXISTS (
        SELECT 1 FROM job_dependencies d JOIN jobs q ON q.id = d.depends_on
        WHERE d.job_id = p.id AND q.state <> 'succeeded')),
    released AS (
      UPDATE jobs j SET pending_dependencies = 0,
        state = (CASE WHEN j.run_at > clock.now THEN 'scheduled' ELSE 'available' END)::job_state
      FROM clock
      WHERE j.id IN (SELECT id FROM ready) AND j.state = 'waiting'
      RETURNING j.id, j.queue, j.state),
    woken AS (
      SELECT pg_notify('trolley_jobs', q.queue)
      FROM (SELECT DISTINCT queue FROM released WHERE state = 'available') q)
    SELECT (SELECT max(id) FROM page), (SELECT count(*) FROM page), (SELECT count(*) FROM released),
      (SELECT count(*) FROM woken),
      -- Dependencies that ended dead or cancelled under a job still waiting: settled next.
      (SELECT array_agg(DISTINCT d.depends_on) FROM page p
         JOIN job_dependencies d ON d.job_id = p.id
         JOIN jobs q ON q.id = d.depends_on
       WHERE q.state IN ('dead', 'cancelled'))
    """

  /// One reconciler page: releases the waiting jobs after `cursor` (at most `limit`) whose
  /// dependencies all succeeded, and cancels those under a dependency that ended dead or
  /// cancelled.
  /// - Returns: the cursor for the next page (nil when the walk is done) and what changed.
  public func jobReconcileWaiting(
    after cursor: Int64, limit: Int, now: Date? = nil, on connection: PostgresConnection
  ) throws -> (next: Int64?, settled: JobSettleResult) {
    let row = try connection.query(
      Self.jobReconcileWaitingSQL, [cursor, Int64(max(1, limit)), now],
      name: "jobReconcileWaiting"
    ).single()
    let last = try row.decode(0, as: Int64?.self)
    let seen = try row.decode(1, as: Int64.self)
    let released = Int(try row.decode(2, as: Int64.self))
    let failed = try row.decode(4, as: [Int64]?.self) ?? []
    let cancelled = try jobSettleDependents(of: failed, now: now, on: connection).cancelled
    return (
      seen < max(1, limit) ? nil : last,
      JobSettleResult(released: released, cancelled: cancelled)
    )
  }
}
