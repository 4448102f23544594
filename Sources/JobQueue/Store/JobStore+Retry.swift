public import Foundation
public import Postgres
import TrolleyBasics

/// Which dead jobs to retry. Filters combine with AND; at least one must be given.
public struct JobRetryParams: Sendable {
  public var ids: [Int64]?
  public var batchID: Int64?
  public var queue: String?
  public var kind: String?
  /// Only jobs whose last error contains this text.
  public var errorContains: String?
  /// Jobs per statement (each statement is its own short transaction). Default 1,000.
  public var chunkSize: Int
  /// The clock; nil: the server's `now()`.
  public var now: Date?

  public init(
    ids: [Int64]? = nil, batchID: Int64? = nil, queue: String? = nil, kind: String? = nil,
    errorContains: String? = nil, chunkSize: Int = 1000, now: Date? = nil
  ) {
    self.ids = ids
    self.batchID = batchID
    self.queue = queue
    self.kind = kind
    self.errorContains = errorContains
    self.chunkSize = chunkSize
    self.now = now
  }
}

extension JobStore {
  static let jobRetrySQL = """
    -- Error and crash budgets start afresh; the last error stays for the record.
    WITH retried AS (
      UPDATE jobs SET
        state = 'available', error_count = 0, crash_count = 0, finished_at = NULL,
        cancel_requested_at = NULL, run_at = coalesce($7::timestamptz, now())
      WHERE id = ANY(ARRAY(
        SELECT id FROM jobs
        WHERE state = 'dead'
          AND ($1::bigint[] IS NULL OR id = ANY($1::bigint[]))
          AND ($2::bigint IS NULL OR batch_id = $2::bigint)
          AND ($3::text IS NULL OR queue = $3::text)
          AND ($4::text IS NULL OR kind = $4::text)
          AND ($5::text IS NULL OR strpos(last_error, $5::text) > 0)
        ORDER BY id
        LIMIT $6
        FOR UPDATE SKIP LOCKED))
      RETURNING id, queue, has_dependents)
    SELECT count(*),
      (SELECT count(*) FROM (SELECT pg_notify('trolley_jobs', q.queue)
                             FROM (SELECT DISTINCT queue FROM retried) q) n),
      array_agg(id) FILTER (WHERE has_dependents)
    FROM retried
    """

  static let jobReviveDependentsSQL = """
    -- The dependents a retried job's death cancelled (and the chain below them) wait again. A
    -- revived job that also depends on another job that ended dead or cancelled is cancelled
    -- again by jobSettleDependents right after.
    WITH RECURSIVE revive (id) AS (
      SELECT id FROM jobs WHERE cancelled_by = ANY($1::bigint[]) AND state = 'cancelled'
      UNION
      SELECT j.id FROM jobs j JOIN revive r ON j.cancelled_by = r.id WHERE j.state = 'cancelled'
    ),
    counted AS (
      SELECT dep.job_id,
        count(*) FILTER (WHERE p.state <> 'succeeded' OR p.id IN (SELECT id FROM revive))::integer
          AS n
      FROM job_dependencies dep JOIN jobs p ON p.id = dep.depends_on
      WHERE dep.job_id IN (SELECT id FROM revive)
      GROUP BY dep.job_id),
    revived AS (
      UPDATE jobs j SET state = 'waiting', pending_dependencies = c.n, finished_at = NULL,
        cancelled_by = NULL, cancel_requested_at = NULL, last_error = NULL
      FROM counted c
      WHERE j.id = c.job_id AND j.state = 'cancelled' AND c.n > 0
      RETURNING j.id)
    SELECT (SELECT count(*) FROM revived),
      (SELECT array_agg(DISTINCT dep.depends_on) FROM job_dependencies dep
       WHERE dep.job_id IN (SELECT id FROM revived))
    """

  /// Moves dead jobs matching the filters back to `available`, in chunks, with fresh budgets.
  /// Dependents their death cancelled wait for them again (`dependencyRetried`), unless another
  /// of their dependencies ended dead or cancelled.
  /// - Returns: how many jobs were retried.
  /// - Throws: `JobQueueError.Code.invalidRequest` when no filter is given.
  @discardableResult
  public func jobRetry(_ params: JobRetryParams, on connection: PostgresConnection) throws -> Int {
    guard
      params.ids != nil || params.batchID != nil || params.queue != nil || params.kind != nil
        || params.errorContains != nil
    else {
      throw JobQueueError(
        .invalidRequest,
        "Say which dead jobs to retry: ids, a batch, a queue, a kind or an error text")
    }
    var total = 0
    while true {
      let row = try connection.query(
        Self.jobRetrySQL,
        [
          params.ids, params.batchID, params.queue, params.kind, params.errorContains,
          Int64(max(1, params.chunkSize)), params.now,
        ], name: "jobRetry"
      ).single()
      let retried = try row.decode(0, as: Int64.self)
      if let parents = try row.decode(2, as: [Int64]?.self) {
        let revived = try connection.query(
          Self.jobReviveDependentsSQL, [parents], name: "jobReviveDependents"
        ).single()
        if let dependencies = try revived.decode(1, as: [Int64]?.self) {
          try jobSettleDependents(of: dependencies, now: params.now, on: connection)
        }
      }
      total += Int(retried)
      if retried < max(1, params.chunkSize) { return total }
    }
  }

  /// Retries on a pooled connection. See `jobRetry(_:on:)`.
  @discardableResult
  public func jobRetry(_ params: JobRetryParams) async throws -> Int {
    try await withConnection { try self.jobRetry(params, on: $0) }
  }
}
