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
    DELETE FROM jobs
    WHERE id = ANY(ARRAY(
      SELECT id FROM jobs
      WHERE state = $1::job_state
        AND finished_at < coalesce($3::timestamptz, now()) - $2::float8 * interval '1 second'
      ORDER BY finished_at
      LIMIT $4
      FOR UPDATE SKIP LOCKED))
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
  /// with them). - Returns: how many were deleted; call again while it returns `limit`.
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
    return try connection.query(
      Self.jobDeleteFinishedSQL,
      [params.state.rawValue, params.olderThan.seconds, params.now, Int64(max(1, params.limit))],
      name: "jobDeleteFinished"
    ).affectedRowCount
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
    Int(
      try connection.query(
        Self.workerDeleteStoppedSQL, [olderThan.seconds, now], name: "workerDeleteStopped"
      ).single().decode(0, as: Int64.self))
  }
}
