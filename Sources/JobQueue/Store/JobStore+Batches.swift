public import Foundation
public import Postgres
import TrolleyBasics

/// A named group of jobs.
public struct BatchRecord: Sendable, Hashable {
  public var id: Int64
  public var name: String
  public var metadata: PostgresJSONB
  public var createdAt: Date
}

/// Create a batch, or find the one with that name.
public struct BatchCreateParams: Sendable {
  public var name: String
  /// Free-form JSON object (who, why, source manifest...).
  public var metadata: PostgresJSONB

  public init(name: String, metadata: PostgresJSONB = PostgresJSONB(text: "{}")) {
    self.name = name
    self.metadata = metadata
  }
}

/// A batch's progress: exact counts by state, recent throughput and an ETA.
public struct BatchProgress: Sendable, Hashable {
  public var batch: BatchRecord
  /// Jobs per state; every state is present (0 when none).
  public var counts: [JobState: Int64]
  /// Jobs that reached a terminal state within `window`.
  public var recentlyFinished: Int64
  /// The span `recentlyFinished` covers (the last few whole minutes, not before the batch).
  public var window: Duration
  /// The clock the figures were taken at.
  public var at: Date

  /// All jobs ever counted in the batch (pruning does not lower it).
  public var total: Int64 { counts.values.reduce(0, +) }
  /// Jobs in a terminal state.
  public var finished: Int64 { JobState.terminal.reduce(0) { $0 + (counts[$1] ?? 0) } }
  /// Jobs not finished yet.
  public var unfinished: Int64 { total - finished }
  /// Jobs finished per second over `window`.
  public var throughputPerSecond: Double {
    let seconds = window.seconds
    return seconds > 0 ? Double(recentlyFinished) / seconds : 0
  }
  /// Time left at the recent throughput; nil when nothing finished recently. Zero when done.
  public var eta: Duration? {
    if unfinished == 0 { return .zero }
    let rate = throughputPerSecond
    guard rate > 0 else { return nil }
    return .milliseconds(Int64((Double(unfinished) / rate * 1000).rounded()))
  }
}

/// Which batch, and over how many recent minutes to measure throughput.
public struct BatchProgressParams: Sendable {
  public var batchID: Int64
  /// Whole minutes of history for throughput, including the current one. Default 5.
  public var minutes: Int
  /// The clock; nil: the server's `now()`.
  public var now: Date?

  public init(batchID: Int64, minutes: Int = 5, now: Date? = nil) {
    self.batchID = batchID
    self.minutes = minutes
    self.now = now
  }
}

extension JobStore {
  static let batchCreateSQL = """
    -- DO UPDATE (a no-op) rather than DO NOTHING, so the existing row comes back.
    INSERT INTO batches (name, metadata) VALUES ($1, $2)
    ON CONFLICT (name) DO UPDATE SET name = excluded.name
    RETURNING id, name, metadata, created_at
    """

  static let batchGetSQL = """
    SELECT id, name, metadata, created_at FROM batches WHERE id = $1 OR name = $2
    """

  static let batchProgressSQL = """
    -- Exact without touching jobs: rolled-up counts plus the few deltas not rolled up yet, read
    -- in one snapshot.
    WITH clock AS (SELECT coalesce($3::timestamptz, now()) AS now),
    batch AS (
      SELECT b.*, greatest(date_trunc('minute', clock.now) - ($2 - 1) * interval '1 minute',
                           b.created_at) AS since
      FROM batches b, clock WHERE b.id = $1),
    counts AS (
      SELECT state::text AS state, sum(n)::bigint AS n FROM (
        SELECT state, n FROM batch_counts WHERE batch_id = $1
        UNION ALL
        SELECT state, delta FROM batch_count_deltas WHERE batch_id = $1) c
      GROUP BY state),
    recent AS (
      SELECT coalesce(sum(finished), 0)::bigint AS finished FROM (
        SELECT finished FROM batch_minutes
        WHERE batch_id = $1 AND minute >= date_trunc('minute', (SELECT since FROM batch))
        UNION ALL
        SELECT delta FROM batch_count_deltas
        WHERE batch_id = $1 AND delta > 0 AND state IN ('succeeded', 'dead', 'cancelled')
          AND at >= (SELECT since FROM batch)) r)
    SELECT b.id, b.name, b.metadata, b.created_at,
      (SELECT coalesce(json_object_agg(state, n), '{}'::json) FROM counts),
      (SELECT finished FROM recent),
      extract(epoch FROM clock.now - b.since)::float8, clock.now
    FROM batch b, clock
    """

  static let batchCountsRollupLockSQL = """
    -- One rollup at a time: two would upsert the same counter rows and could deadlock.
    SELECT pg_try_advisory_xact_lock(7301001)
    """

  static let batchCountsRollupSQL = """
    WITH moved AS (
      DELETE FROM batch_count_deltas
      WHERE id = ANY(ARRAY(SELECT id FROM batch_count_deltas ORDER BY id LIMIT $1
                           FOR UPDATE SKIP LOCKED))
      RETURNING batch_id, state, delta, at),
    counted AS (
      INSERT INTO batch_counts (batch_id, state, n)
      SELECT m.batch_id, m.state, sum(m.delta) FROM moved m JOIN batches b ON b.id = m.batch_id
      GROUP BY m.batch_id, m.state
      ON CONFLICT (batch_id, state) DO UPDATE SET n = batch_counts.n + excluded.n),
    minutes AS (
      INSERT INTO batch_minutes (batch_id, minute, finished)
      SELECT m.batch_id, date_trunc('minute', m.at), sum(m.delta)
      FROM moved m JOIN batches b ON b.id = m.batch_id
      WHERE m.delta > 0 AND m.state IN ('succeeded', 'dead', 'cancelled')
      GROUP BY 1, 2
      ON CONFLICT (batch_id, minute) DO UPDATE SET finished = batch_minutes.finished + excluded.finished)
    SELECT count(*) FROM moved
    """

  /// Creates a batch, or returns the existing one with the same name.
  /// - Throws: `JobQueueError.Code.invalidRequest` for an empty or over-long name.
  public func batchCreate(_ params: BatchCreateParams, on connection: PostgresConnection) throws
    -> BatchRecord
  {
    guard !params.name.isEmpty, params.name.count <= 200 else {
      throw JobQueueError(.invalidRequest, "A batch name must have 1 to 200 characters")
    }
    let row = try connection.query(
      Self.batchCreateSQL, [params.name, params.metadata], name: "batchCreate"
    ).single()
    return try Self.batchRecord(row)
  }

  /// Creates on a pooled connection. See `batchCreate(_:on:)`.
  public func batchCreate(_ params: BatchCreateParams) async throws -> BatchRecord {
    try await withConnection { try self.batchCreate(params, on: $0) }
  }

  /// The batch with this id or name, or nil.
  public func batchGet(id: Int64? = nil, name: String? = nil, on connection: PostgresConnection)
    throws -> BatchRecord?
  {
    try connection.query(Self.batchGetSQL, [id, name], name: "batchGet").first.map(
      Self.batchRecord)
  }

  /// Looks up on a pooled connection. See `batchGet(id:name:on:)`.
  public func batchGet(id: Int64? = nil, name: String? = nil) async throws -> BatchRecord? {
    try await withConnection { try self.batchGet(id: id, name: name, on: $0) }
  }

  /// Exact counts by state, recent throughput and ETA, without counting over `jobs`.
  /// - Throws: `JobQueueError.Code.batchNotFound`.
  public func batchProgress(_ params: BatchProgressParams, on connection: PostgresConnection)
    throws -> BatchProgress
  {
    guard
      let row = try connection.query(
        Self.batchProgressSQL, [params.batchID, Int32(max(1, params.minutes)), params.now],
        name: "batchProgress"
      ).first
    else {
      throw JobQueueError(.batchNotFound, "No batch has id \(params.batchID)")
    }
    let raw = try row.decode(4, as: PostgresJSONB.self).decode([String: Int64].self)
    var counts: [JobState: Int64] = [:]
    for state in JobState.allCases { counts[state] = raw[state.rawValue] ?? 0 }
    let seconds = try row.decode(6, as: Double.self)
    return BatchProgress(
      batch: try Self.batchRecord(row), counts: counts, recentlyFinished: try row.decode(5),
      window: .milliseconds(Int64((max(0, seconds) * 1000).rounded())), at: try row.decode(7))
  }

  /// Progress on a pooled connection. See `batchProgress(_:on:)`.
  public func batchProgress(_ params: BatchProgressParams) async throws -> BatchProgress {
    try await withConnection { try self.batchProgress(params, on: $0) }
  }

  /// Folds up to `limit` counter deltas into `batch_counts` and `batch_minutes`. Returns 0
  /// without waiting when another rollup is running.
  @discardableResult
  public func batchCountsRollup(limit: Int = 10_000, on connection: PostgresConnection) throws
    -> Int
  {
    try connection.withTransaction { connection in
      let locked = try connection.query(
        Self.batchCountsRollupLockSQL, name: "batchCountsRollupLock"
      )
      .single().decode(0, as: Bool.self)
      guard locked else { return 0 }
      return Int(
        try connection.query(Self.batchCountsRollupSQL, [Int64(limit)], name: "batchCountsRollup")
          .single().decode(0, as: Int64.self))
    }
  }

  /// Rolls up on a pooled connection. See `batchCountsRollup(limit:on:)`.
  @discardableResult
  public func batchCountsRollup(limit: Int = 10_000) async throws -> Int {
    try await withConnection { try self.batchCountsRollup(limit: limit, on: $0) }
  }

  static func batchRecord(_ row: PostgresRow) throws -> BatchRecord {
    BatchRecord(
      id: try row.decode(0), name: try row.decode(1), metadata: try row.decode(2),
      createdAt: try row.decode(3))
  }
}
