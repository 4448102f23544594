public import Foundation
public import Postgres

/// A scheduler pass.
public struct JobPromoteParams: Sendable {
  /// The most jobs to promote in one statement. Default 5,000.
  public var limit: Int
  /// The clock; nil: the server's `now()`.
  public var now: Date?

  public init(limit: Int = 5000, now: Date? = nil) {
    self.limit = limit
    self.now = now
  }
}

extension JobStore {
  static let jobPromoteDueSQL = """
    WITH promoted AS (
      UPDATE jobs SET state = 'available'
      WHERE id = ANY(ARRAY(
        SELECT id FROM jobs
        WHERE state IN ('scheduled', 'retrying') AND run_at <= coalesce($2::timestamptz, now())
        ORDER BY run_at
        LIMIT $1
        FOR UPDATE SKIP LOCKED))
      RETURNING queue)
    SELECT q.queue, q.n, pg_notify('trolley_jobs', q.queue)::text
    FROM (SELECT queue, count(*) AS n FROM promoted GROUP BY queue) q
    """

  /// Makes scheduled and retrying jobs whose `run_at` passed available, and wakes their queues.
  /// - Returns: how many jobs were promoted.
  @discardableResult
  public func jobPromoteDue(_ params: JobPromoteParams, on connection: PostgresConnection) throws
    -> Int
  {
    let rows = try connection.query(
      Self.jobPromoteDueSQL, [Int64(params.limit), params.now], name: "jobPromoteDue")
    return try rows.reduce(0) { $0 + Int(try $1.decode(1, as: Int64.self)) }
  }

  /// Promotes on a pooled connection. See `jobPromoteDue(_:on:)`.
  @discardableResult
  public func jobPromoteDue(_ params: JobPromoteParams) async throws -> Int {
    try await withConnection { try self.jobPromoteDue(params, on: $0) }
  }
}
