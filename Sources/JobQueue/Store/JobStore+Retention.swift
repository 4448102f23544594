public import Foundation
public import Postgres
import TrolleyBasics

/// One retention statement: delete up to `limit` finished jobs in `state` older than `olderThan`.
public struct JobDeleteFinishedParams: Sendable {
  /// A terminal state.
  public var state: JobState
  /// Jobs finished longer ago than this are deleted.
  public var olderThan: Duration
  /// Rows per statement; small, so each statement holds its locks briefly. Default 1,000.
  public var limit: Int
  /// The clock; nil: the server's `now()`.
  public var now: Date?

  public init(state: JobState, olderThan: Duration, limit: Int = 1000, now: Date? = nil) {
    self.state = state
    self.olderThan = olderThan
    self.limit = limit
    self.now = now
  }
}

extension JobStore {
  static let jobDeleteFinishedSQL = """
    -- Oldest first through the partial finished index; SKIP LOCKED so pruning never waits on (or
    -- blocks) anyone. Batch counters are deliberately left as they were.
    WITH clock AS (SELECT coalesce($3::timestamptz, now()) AS now),
    -- Succeeded jobs of a batch that still has unfinished jobs are kept whatever their age: the
    -- batch will be exported as a whole. Read from the counters, never by counting jobs.
    open_batches AS (
      SELECT batch_id FROM (
        SELECT batch_id, state, n FROM batch_counts
        UNION ALL SELECT batch_id, state, delta FROM batch_count_deltas) c
      WHERE state IN ('waiting', 'scheduled', 'available', 'running', 'retrying')
      GROUP BY batch_id HAVING sum(n) > 0),
    gone AS (
      DELETE FROM jobs
      WHERE id = ANY(ARRAY(
        SELECT id FROM jobs
        WHERE state = $1::job_state
          AND finished_at < (SELECT now FROM clock) - $2::float8 * interval '1 second'
          AND ($1::job_state <> 'succeeded' OR batch_id IS NULL
               OR batch_id NOT IN (SELECT batch_id FROM open_batches))
        ORDER BY finished_at
        LIMIT $4
        FOR UPDATE SKIP LOCKED))
      RETURNING unique_key, batch_id),
    -- Their keys stay used, so re-running the enqueue does not add the jobs again.
    retired AS (
      INSERT INTO job_keys_retired (unique_key, batch_id)
      SELECT unique_key, batch_id FROM gone WHERE unique_key IS NOT NULL
      ON CONFLICT (unique_key) DO NOTHING)
    SELECT count(*) FROM gone
    """

  static let workerDeleteStoppedSQL = """
    WITH clock AS (SELECT coalesce($2::timestamptz, now()) AS now),
    gone AS (
      DELETE FROM workers
      WHERE state <> 'active'
        AND stopped_at < (SELECT now FROM clock) - $1::float8 * interval '1 second'
      RETURNING id),
    -- Throughput older than an hour is never shown; a deleted worker's is never shown again.
    tallies AS (
      DELETE FROM worker_minutes
      WHERE minute < (SELECT now FROM clock) - interval '1 hour'
        OR worker_id IN (SELECT id FROM gone))
    SELECT count(*) FROM gone
    """

  /// Deletes one small chunk of old finished jobs (their dependency edges and crash evidence go
  /// with them; their unique keys stay used, so an enqueue re-run skips them). Succeeded jobs of
  /// a batch with unfinished jobs are never deleted. - Returns: how many were deleted; call again while it returns `limit`.
  /// - Throws: `JobQueueError.Code.invalidRequest` for a state that is not terminal.
  @discardableResult
  public func jobDeleteFinished(
    _ params: JobDeleteFinishedParams, on connection: PostgresConnection
  )
    throws -> Int
  {
    guard params.state.isTerminal else {
      throw JobQueueError(
        .invalidRequest, "Only finished jobs can be pruned, not \(params.state.rawValue) ones")
    }
    return try Self.count(
      Self.jobDeleteFinishedSQL,
      [params.state.rawValue, params.olderThan.seconds, params.now, Int64(max(1, params.limit))],
      name: "jobDeleteFinished", on: connection)
  }

  /// Deletes on a pooled connection. See `jobDeleteFinished(_:on:)`.
  @discardableResult
  public func jobDeleteFinished(_ params: JobDeleteFinishedParams) async throws -> Int {
    try await withConnection { try self.jobDeleteFinished(params, on: $0) }
  }

  /// Deletes registry rows of workers stopped or stale for longer than `olderThan`, and
  /// per-minute throughput rows older than an hour or of the deleted workers.
  /// - Returns: how many workers were deleted.
  @discardableResult
  public func workerDeleteStopped(
    olderThan: Duration, now: Date? = nil, on connection: PostgresConnection
  ) throws -> Int {
    try stoppedWorkers(deleting: true, olderThan: olderThan, now: now, on: connection)
  }
}

extension JobStore {
  static let jobPrunePreviewSQL = """
    -- What jobDeleteFinished would delete: the count and the oldest few, read-only.
    WITH old AS (
      SELECT id, kind, finished_at FROM jobs
      WHERE state = $1::job_state
        AND finished_at < coalesce($3::timestamptz, now()) - $2::float8 * interval '1 second')
    SELECT (SELECT count(*) FROM old),
      coalesce((SELECT array_agg(id ORDER BY finished_at, id)
        FROM (SELECT id, finished_at FROM old ORDER BY finished_at, id LIMIT $4) AS first), '{}')
    """

  static let workerCountStoppedSQL = """
    SELECT count(*) FROM workers
    WHERE state <> 'active'
      AND stopped_at < coalesce($2::timestamptz, now()) - $1::float8 * interval '1 second'
    """

  /// What `jobDeleteFinished` would delete for `params` (ignoring its `limit`): how many jobs, and
  /// the ids of the oldest `sample`. Changes nothing.
  public func jobPrunePreview(
    _ params: JobDeleteFinishedParams, sample: Int, on connection: PostgresConnection
  ) throws -> (count: Int, sample: [Int64]) {
    let row = try connection.query(
      Self.jobPrunePreviewSQL,
      [params.state.rawValue, params.olderThan.seconds, params.now, Int64(max(0, sample))],
      name: "jobPrunePreview"
    ).single()
    return (Int(try row.decode(0, as: Int64.self)), try row.decode(1, as: [Int64].self))
  }

  /// How many worker records `workerDeleteStopped` would delete. Changes nothing.
  public func workerCountStopped(
    olderThan: Duration, now: Date? = nil, on connection: PostgresConnection
  ) throws -> Int {
    try stoppedWorkers(deleting: false, olderThan: olderThan, now: now, on: connection)
  }
}

extension JobStore {
  /// Runs a statement whose one row is a bigint count (rows deleted or found) and returns it.
  static func count(
    _ sql: String, _ bindings: PostgresBindings, name: String, on connection: PostgresConnection
  ) throws -> Int {
    Int(try connection.query(sql, bindings, name: name).single().decode(0, as: Int64.self))
  }

  /// Deletes, or only counts, the workers stopped or stale for longer than `olderThan`. Both
  /// statements take the same bindings, so the preview counts exactly the workers the delete takes.
  func stoppedWorkers(
    deleting: Bool, olderThan: Duration, now: Date?, on connection: PostgresConnection
  ) throws -> Int {
    try Self.count(
      deleting ? Self.workerDeleteStoppedSQL : Self.workerCountStoppedSQL,
      [olderThan.seconds, now], name: deleting ? "workerDeleteStopped" : "workerCountStopped",
      on: connection)
  }
}
