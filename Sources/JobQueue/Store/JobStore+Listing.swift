public import Foundation
public import Postgres

/// Which jobs an operator means: every field narrows the set; nil fields do not filter.
public struct JobListParams: Sendable, Hashable {
  public var batchID: Int64?
  /// Only jobs in these states; nil: any state.
  public var states: [JobState]?
  public var kind: String?
  public var queue: String?
  /// Only jobs created at or after this time.
  public var createdSince: Date?
  /// Only jobs whose last error contains this text (case-insensitive).
  public var errorContains: String?
  /// Keyset pagination: only jobs with a larger id.
  public var afterID: Int64?
  /// At most this many jobs, in id order.
  public var limit: Int

  public init(
    batchID: Int64? = nil, states: [JobState]? = nil, kind: String? = nil, queue: String? = nil,
    createdSince: Date? = nil, errorContains: String? = nil, afterID: Int64? = nil, limit: Int = 100
  ) {
    self.batchID = batchID
    self.states = states
    self.kind = kind
    self.queue = queue
    self.createdSince = createdSince
    self.errorContains = errorContains
    self.afterID = afterID
    self.limit = limit
  }
}

/// One line of a job listing: enough to identify a job and see how it went.
public struct JobSummary: Sendable, Hashable {
  public var id: Int64
  public var queue: String
  public var kind: String
  public var state: JobState
  public var attempt: Int32
  public var maxAttempts: Int32
  public var batchID: Int64?
  public var payload: PostgresJSONB
  public var lastError: String?
  public var createdAt: Date
  public var finishedAt: Date?
}

extension JobStore {
  static let jobListSQL = """
    -- Every filter is optional ($n IS NULL). Run unprepared so each call gets a custom plan that
    -- uses jobs_batch_idx or the primary key for the filters actually given.
    SELECT id, queue, kind, state::text, attempt, max_attempts, batch_id, payload, last_error,
      created_at, finished_at
    FROM jobs
    WHERE ($1::bigint IS NULL OR batch_id = $1)
      AND ($2::text[] IS NULL OR state::text = ANY($2))
      AND ($3::text IS NULL OR kind = $3)
      AND ($4::text IS NULL OR queue = $4)
      AND ($5::timestamptz IS NULL OR created_at >= $5)
      -- strpos rather than LIKE, so % and _ in the operator's text are not wildcards.
      AND ($6::text IS NULL OR strpos(lower(last_error), lower($6)) > 0)
      AND id > coalesce($7::bigint, 0)
    ORDER BY id
    LIMIT $8
    """

  /// Jobs matching `params`, in id order, at most `params.limit`.
  public func jobList(_ params: JobListParams, on connection: PostgresConnection) throws
    -> [JobSummary]
  {
    let rows = try connection.query(
      Self.jobListSQL,
      [
        params.batchID, params.states.map { $0.map(\.rawValue) }, params.kind, params.queue,
        params.createdSince, params.errorContains, params.afterID, Int64(max(0, params.limit)),
      ], name: "jobList")
    return try rows.map { row in
      JobSummary(
        id: try row.decode(0), queue: try row.decode(1), kind: try row.decode(2),
        state: JobState(rawValue: try row.decode(3)) ?? .available, attempt: try row.decode(4),
        maxAttempts: try row.decode(5), batchID: try row.decode(6), payload: try row.decode(7),
        lastError: try row.decode(8), createdAt: try row.decode(9), finishedAt: try row.decode(10))
    }
  }

  /// Lists on a pooled connection. See `jobList(_:on:)`.
  public func jobList(_ params: JobListParams) async throws -> [JobSummary] {
    try await withConnection { try self.jobList(params, on: $0) }
  }
}
