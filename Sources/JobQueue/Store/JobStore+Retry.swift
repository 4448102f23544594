public import Foundation
public import Postgres

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
      RETURNING queue)
    SELECT count(*),
      (SELECT count(*) FROM (SELECT pg_notify('trolley_jobs', q.queue)
                             FROM (SELECT DISTINCT queue FROM retried) q) n)
    FROM retried
    """

  /// Moves dead jobs matching the filters back to `available`, in chunks, with fresh budgets.
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
      let retried = try connection.query(
        Self.jobRetrySQL,
        [
          params.ids, params.batchID, params.queue, params.kind, params.errorContains,
          Int64(max(1, params.chunkSize)), params.now,
        ], name: "jobRetry"
      ).single().decode(0, as: Int64.self)
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
