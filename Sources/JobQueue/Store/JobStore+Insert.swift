public import Foundation
public import Postgres
import TrolleyBasics

/// One job to enqueue: the job as a bulk enqueue's row describes it (its dependencies by id
/// only), with the batch it joins and the clock.
public struct JobInsertParams: Sendable {
  /// The job; its `dependsOnKeys` are for bulk enqueue and stay empty here.
  public var job: JobInsertRow
  /// The batch the job belongs to, if any.
  public var batchID: Int64?
  /// The clock; nil: the server's `now()`.
  public var now: Date?

  public init(
    queue: String = "default", kind: String, payload: PostgresJSONB = PostgresJSONB(text: "{}"),
    priority: Int16 = 0, runAt: Date? = nil, maxAttempts: Int32 = 5, maxCrashes: Int32 = 3,
    batchID: Int64? = nil, uniqueKey: String? = nil, dependsOn: [Int64] = [], now: Date? = nil
  ) {
    job = JobInsertRow(
      queue: queue, kind: kind, payload: payload, priority: priority, runAt: runAt,
      maxAttempts: maxAttempts, maxCrashes: maxCrashes, uniqueKey: uniqueKey, dependsOn: dependsOn)
    self.batchID = batchID
    self.now = now
  }
}

/// What `jobInsert` did.
public struct JobInsertResult: Sendable, Hashable {
  /// The new job's id; nil when skipped.
  public var id: Int64?
  /// The new job's state; nil when skipped.
  public var state: JobState?
  /// True when a job with the same unique key already existed, so nothing was added.
  public var skipped: Bool { id == nil }
}

extension JobStore {
  static let jobLockDependenciesSQL = """
    -- Locks the dependencies and marks them, so each one's completion either committed before this
    -- statement (its state is read here) or runs after it and finds this job among its dependents.
    UPDATE jobs SET has_dependents = true WHERE id = ANY($1::bigint[]) RETURNING id, state::text
    """

  static let jobInsertSQL = """
    -- ON CONFLICT makes enqueue idempotent for jobs with a unique key: no row comes back.
    -- The NOTIFY is delivered when the enqueue transaction commits.
    WITH clock AS (SELECT coalesce($13::timestamptz, now()) AS now),
    inserted AS (
      INSERT INTO jobs (queue, kind, payload, priority, run_at, state, max_attempts, max_crashes,
                        batch_id, unique_key, pending_dependencies, last_error, finished_at,
                        cancelled_by)
      SELECT $1, $2, $3, $4, coalesce($5, clock.now),
        (CASE WHEN $11::bigint IS NOT NULL THEN 'cancelled'
              WHEN $10 > 0 THEN 'waiting'
              WHEN $5 > clock.now THEN 'scheduled'
              ELSE 'available' END)::job_state,
        $6, $7, $8, $9, $10,
        CASE WHEN $11::bigint IS NOT NULL THEN 'cancelled: dependency ' || $11 || ' ended ' || $12 END,
        CASE WHEN $11::bigint IS NOT NULL THEN clock.now END,
        $11::bigint
      FROM clock
      -- A key whose job was pruned stays used (retention keeps it in job_keys_retired).
      WHERE $9::text IS NULL
        OR NOT EXISTS (SELECT 1 FROM job_keys_retired r WHERE r.unique_key = $9::text)
      ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL DO NOTHING
      RETURNING id, state, queue),
    notified AS (SELECT pg_notify('trolley_jobs', queue) FROM inserted WHERE state = 'available')
    SELECT id, state::text, (SELECT count(*) FROM notified) FROM inserted
    """

  static let jobInsertDependenciesSQL = """
    INSERT INTO job_dependencies (job_id, depends_on) SELECT $1, unnest($2::bigint[])
    """

  /// Enqueues one job on `connection` (inside the caller's transaction if one is open).
  ///
  /// With `dependsOn`, the job starts `waiting` until every dependency succeeded (`available` if
  /// they all already have; `cancelled`, naming the culprit, if one already ended dead or
  /// cancelled).
  /// - Returns: the id and state, or `skipped` when the unique key was already used.
  /// - Throws: `JobQueueError.Code.dependencyNotFound` for an unknown dependency,
  ///   `.invalidRequest` for out-of-range values; `PostgresError` from the database.
  @discardableResult
  public func jobInsert(_ params: JobInsertParams, on connection: PostgresConnection) throws
    -> JobInsertResult
  {
    try Self.validate(params.job)
    if params.job.dependsOn.isEmpty {
      return try Self.insertOne(params, pending: 0, failed: nil, on: connection)
    }
    return try connection.withTransaction { connection in
      let wanted = Set(params.job.dependsOn)
      let rows = try connection.query(
        Self.jobLockDependenciesSQL, [Array(wanted)], name: "jobLockDependencies")
      var found: [Int64: String] = [:]
      for row in rows {
        let (id, state) = try row.decode((Int64, String).self)
        found[id] = state
      }
      if let missing = wanted.subtracting(found.keys).min() {
        throw JobQueueError(
          .dependencyNotFound, "Job \(missing) does not exist, so no job can depend on it")
      }
      let failed = found.filter { $0.value == "dead" || $0.value == "cancelled" }.min {
        $0.key < $1.key
      }
      let pending = found.values.filter { $0 != "succeeded" }.count
      let result = try Self.insertOne(
        params, pending: pending, failed: failed.map { ($0.key, $0.value) }, on: connection)
      if let id = result.id {
        try connection.query(
          Self.jobInsertDependenciesSQL, [id, Array(wanted)], name: "jobInsertDependencies")
      }
      return result
    }
  }

  /// Enqueues one job on a pooled connection. See `jobInsert(_:on:)`.
  @discardableResult
  public func jobInsert(_ params: JobInsertParams) async throws -> JobInsertResult {
    try await withConnection { try self.jobInsert(params, on: $0) }
  }

  private static func insertOne(
    _ params: JobInsertParams, pending: Int, failed: (Int64, String)?,
    on connection: PostgresConnection
  ) throws -> JobInsertResult {
    let job = params.job
    let rows = try connection.query(
      jobInsertSQL,
      [
        job.queue, job.kind, job.payload, job.priority, job.runAt, job.maxAttempts,
        job.maxCrashes, params.batchID, job.uniqueKey, Int32(pending), failed?.0, failed?.1,
        params.now,
      ], name: "jobInsert")
    guard let row = rows.first else { return JobInsertResult(id: nil, state: nil) }
    let (id, state) = try row.decode((Int64, String).self)
    return JobInsertResult(id: id, state: JobState(rawValue: state))
  }

  /// Checks a job before it is enqueued, alone or as a row of a bulk enqueue.
  static func validate(_ row: JobInsertRow) throws {
    guard !row.queue.isEmpty, row.queue.utf8.count <= 100 else {
      throw JobQueueError(.invalidRequest, "A queue name must have 1 to 100 bytes")
    }
    guard !row.kind.isEmpty, row.kind.utf8.count <= 100 else {
      throw JobQueueError(.invalidRequest, "A job kind must have 1 to 100 bytes")
    }
    guard row.maxAttempts >= 1, row.maxCrashes >= 1 else {
      throw JobQueueError(.invalidRequest, "maxAttempts and maxCrashes must be at least 1")
    }
  }
}
