import JobQueue
import Postgres

// The queue's baseline SQL, private to the bench: the raw ceiling `trolley bench queue` compares
// the real queue against. Nothing in the product runs it.

extension JobStore {
  static let baselineClaimSQL = """
    -- The plain claim the benchmark compares against: a CTE with SKIP LOCKED, no paused-queue
    -- check, no kind filter, no fencing token, no attempt count.
    WITH picked AS (
      SELECT id FROM jobs WHERE state = 'available' AND queue = $1
      ORDER BY priority, run_at, id
      LIMIT $2
      FOR UPDATE SKIP LOCKED)
    UPDATE jobs SET state = 'running', lease_owner = 0, lease_token = 0,
      lease_expires_at = now() + interval '30 seconds'
    FROM picked WHERE jobs.id = picked.id
    RETURNING jobs.id
    """

  static let baselineCompleteSQL = """
    UPDATE jobs SET state = 'succeeded', finished_at = now(), lease_owner = NULL,
      lease_token = NULL, lease_expires_at = NULL
    WHERE id = ANY($1::bigint[])
    """

  /// The raw ceiling's claim (for `trolley bench queue` only): plain SQL with none of the
  /// queue's guarantees. - Returns: the claimed ids.
  func baselineClaim(queue: String, limit: Int, on connection: PostgresConnection) throws
    -> [Int64]
  {
    try connection.query(Self.baselineClaimSQL, [queue, Int64(limit)], name: "baselineClaim").map {
      try $0.decode(0)
    }
  }

  /// The raw ceiling's completion by id, unfenced (for `trolley bench queue` only).
  func baselineComplete(ids: [Int64], on connection: PostgresConnection) throws {
    try connection.query(Self.baselineCompleteSQL, [ids], name: "baselineComplete")
  }
}

extension JobStore {
  static let baselineCopySQL = """
    COPY jobs (queue, kind, payload) FROM STDIN
    """

  static let baselineResetSQL = """
    TRUNCATE jobs, job_dependencies, job_crashes, batch_count_deltas, batch_counts, batch_minutes,
      workers
    """

  /// Copies `count` no-op rows straight into `jobs` (the enqueue ceiling, and the benchmark's
  /// way to fill a queue quickly). - Returns: the rows copied.
  @discardableResult
  func baselineCopy(queue: String, count: Int, on connection: PostgresConnection) throws
    -> Int
  {
    try connection.copyFrom(Self.baselineCopySQL, name: "baselineCopy") { writer in
      let row: [String?] = [queue, "noop", "{}"]
      for _ in 0..<count { try writer.writeRow(row) }
    }
  }

  /// Empties every queue table and refreshes the planner's statistics (benchmark databases only:
  /// this deletes everything).
  func baselineReset(on connection: PostgresConnection) throws {
    try connection.execute(Self.baselineResetSQL, name: "baselineReset")
  }

  /// Refreshes the planner's statistics of `jobs` after a bulk load.
  func baselineAnalyze(on connection: PostgresConnection) throws {
    try connection.execute("ANALYZE jobs", name: "baselineAnalyze")
  }
}
