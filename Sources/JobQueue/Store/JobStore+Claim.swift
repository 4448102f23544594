public import Foundation
public import Postgres
import TrolleyBasics

/// What a worker asks for when it has free slots.
public struct JobClaimParams: Sendable {
  /// The one queue to claim from (one queue per claim keeps the index scan ordered, no sort).
  public var queue: String
  /// Kinds the worker can run; nil: any kind.
  public var kinds: [String]?
  /// The most jobs to claim (the worker's free slots). At least 1.
  public var limit: Int
  /// The claiming worker's id (`workerRegister`).
  public var workerID: Int64
  /// How long the lease lasts without a heartbeat. Default 30 s.
  public var lease: Duration
  /// Jobs the worker holds now. A suspect (a job whose lease expired before: it may have killed
  /// its worker) runs alone, so that a crash is charged to it and not to jobs beside it: it is
  /// claimed only by a worker holding nothing, and then as the only job. Default 0.
  public var holding: Int
  /// The clock; nil: the server's `now()`.
  public var now: Date?
  /// The bytes of memory the worker offers all the jobs it holds together; nil: no limit. Jobs
  /// declare what they need in their payload's `memory_bytes` (training shards:
  /// docs/training-runs.md; nothing declared counts as 0). A claim takes jobs, in claim order,
  /// only while `memoryHeld` plus their declared bytes stays within this budget; jobs that do not
  /// fit are left to other workers (or to this one when it has finished something).
  public var memoryLimit: Int64?
  /// The declared `memory_bytes` of the jobs the worker holds now (see `ClaimedJob.memoryBytes`).
  /// Default 0.
  public var memoryHeld: Int64

  public init(
    queue: String = "default", kinds: [String]? = nil, limit: Int, workerID: Int64,
    lease: Duration = .seconds(30), holding: Int = 0, now: Date? = nil, memoryLimit: Int64? = nil,
    memoryHeld: Int64 = 0
  ) {
    self.memoryLimit = memoryLimit
    self.memoryHeld = memoryHeld
    self.holding = holding
    self.queue = queue
    self.kinds = kinds
    self.limit = limit
    self.workerID = workerID
    self.lease = lease
    self.now = now
  }
}

/// A job a worker now holds. Every later write about it names `id` and `leaseToken`.
public struct ClaimedJob: Sendable, Hashable {
  public var id: Int64
  public var queue: String
  public var kind: String
  public var payload: PostgresJSONB
  public var priority: Int16
  /// This claim's number, starting at 1.
  public var attempt: Int32
  public var maxAttempts: Int32
  /// Errors so far (before this attempt).
  public var errorCount: Int32
  public var maxCrashes: Int32
  /// Expired leases so far.
  public var crashCount: Int32
  /// The fencing token for this attempt.
  public var leaseToken: Int64
  public var leaseExpiresAt: Date
  public var batchID: Int64?
  /// The memory the payload declares in `memory_bytes` (0 when it declares none): what the job
  /// counts against its worker's memory budget while held (`JobClaimParams.memoryHeld`).
  public var memoryBytes: Int64

  public init(
    id: Int64, queue: String, kind: String, payload: PostgresJSONB, priority: Int16,
    attempt: Int32, maxAttempts: Int32, errorCount: Int32, maxCrashes: Int32, crashCount: Int32,
    leaseToken: Int64, leaseExpiresAt: Date, batchID: Int64?, memoryBytes: Int64 = 0
  ) {
    self.memoryBytes = memoryBytes
    self.id = id
    self.queue = queue
    self.kind = kind
    self.payload = payload
    self.priority = priority
    self.attempt = attempt
    self.maxAttempts = maxAttempts
    self.errorCount = errorCount
    self.maxCrashes = maxCrashes
    self.crashCount = crashCount
    self.leaseToken = leaseToken
    self.leaseExpiresAt = leaseExpiresAt
    self.batchID = batchID
  }
}

extension JobStore {
  static let jobClaimSQL = """
    -- id = ANY(ARRAY(...)) keeps the index plan under a generic plan: LIMIT $3 inside IN (...) or a
    -- CTE is estimated at 10% of the table there and the plan turns into a sequential scan.
    -- FOR UPDATE SKIP LOCKED: concurrent claimers skip each other's candidates instead of waiting.
    -- The paused-queue check is uncorrelated, so it runs once per statement.
    -- The lease token comes from an InitPlan: one strictly increasing value per claim statement.
    WITH clock AS (SELECT coalesce($6::timestamptz, now()) AS now),
    picked AS (
      SELECT ARRAY(
        SELECT id FROM (
          -- Memory-aware claims: the candidates' declared bytes, summed in claim order, must fit
          -- what the worker's budget ($8) leaves beside the jobs it holds ($9). The window runs
          -- over the locked candidates (a level above FOR UPDATE, where windows are not allowed).
          SELECT id, priority, run_at, memory,
            sum(memory) OVER (ORDER BY priority, run_at, id
              ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS claimed_memory
          FROM (
            SELECT id, priority, run_at,
              coalesce((payload->>'memory_bytes')::bigint, 0) AS memory
            FROM jobs
            WHERE state = 'available' AND queue = $1
              AND ($2::text[] IS NULL OR kind = ANY($2::text[]))
              -- Suspects (crash_count > 0) only for a worker that holds nothing.
              AND (crash_count = 0 OR $7::boolean)
              -- Jobs that declare more memory than this worker has left are left to others.
              AND ($8::bigint IS NULL
                OR coalesce((payload->>'memory_bytes')::bigint, 0) <= $8::bigint - $9::bigint)
              AND NOT EXISTS (SELECT 1 FROM queues WHERE name = $1 AND paused_at IS NOT NULL)
            ORDER BY priority, run_at, id
            LIMIT $3
            FOR UPDATE SKIP LOCKED) AS candidates) AS fitting
        -- The sum is monotonic, so the kept jobs that declare memory are a prefix of those
        -- candidates and their total fits; jobs declaring nothing always fit.
        WHERE $8::bigint IS NULL OR memory = 0 OR claimed_memory <= $8::bigint - $9::bigint
        ORDER BY priority, run_at, id) AS ids),
    -- A suspect at the head of the line is taken alone; otherwise suspects among the candidates
    -- stay available (their locks end with this statement) for a worker that holds nothing.
    lead AS (
      SELECT j.id, j.crash_count > 0 AS suspect
      FROM jobs j WHERE j.id = (SELECT ids[1] FROM picked))
    UPDATE jobs SET
      state = 'running',
      attempt = attempt + 1,
      lease_owner = $4,
      lease_token = (SELECT nextval('job_lease_token_seq')),
      lease_expires_at = (SELECT now FROM clock) + $5::float8 * interval '1 second',
      attempted_at = (SELECT now FROM clock),
      progress = NULL
    WHERE id = ANY((SELECT ids FROM picked)::bigint[])
      AND CASE WHEN (SELECT suspect FROM lead) THEN id = (SELECT id FROM lead)
               ELSE crash_count = 0 END
    RETURNING id, queue, kind, payload, priority, attempt, max_attempts, error_count, max_crashes,
      crash_count, lease_token, lease_expires_at, batch_id,
      coalesce((payload->>'memory_bytes')::bigint, 0)
    """

  /// Claims up to `limit` available jobs of one queue in one statement, ordered by priority,
  /// `run_at`, id, and leases them to the worker. Returns nothing while the queue is paused.
  /// - Throws: `JobQueueError.Code.invalidRequest` for a limit below 1; `PostgresError`.
  public func jobClaim(_ params: JobClaimParams, on connection: PostgresConnection) throws
    -> [ClaimedJob]
  {
    guard params.limit >= 1 else {
      throw JobQueueError(.invalidRequest, "A claim must ask for at least 1 job")
    }
    let rows = try connection.query(
      Self.jobClaimSQL,
      [
        params.queue, params.kinds, Int64(params.limit), params.workerID,
        params.lease.seconds, params.now, params.holding == 0, params.memoryLimit,
        params.memoryHeld,
      ], name: "jobClaim")
    return try rows.map { row in
      ClaimedJob(
        id: try row.decode(0), queue: try row.decode(1), kind: try row.decode(2),
        payload: try row.decode(3), priority: try row.decode(4), attempt: try row.decode(5),
        maxAttempts: try row.decode(6), errorCount: try row.decode(7),
        maxCrashes: try row.decode(8), crashCount: try row.decode(9),
        leaseToken: try row.decode(10), leaseExpiresAt: try row.decode(11),
        batchID: try row.decode(12), memoryBytes: try row.decode(13))
    }
  }

  /// Claims on a pooled connection. See `jobClaim(_:on:)`.
  public func jobClaim(_ params: JobClaimParams) async throws -> [ClaimedJob] {
    try await withConnection { try self.jobClaim(params, on: $0) }
  }
}
