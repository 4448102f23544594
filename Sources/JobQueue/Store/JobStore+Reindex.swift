public import Foundation
import Postgres
import TrolleyBasics

/// One reindex pass.
public struct IndexReindexParams: Sendable {
  /// The indexes to rebuild, in order. Each must be an index of a queue table.
  public var indexes: [String] = JobStore.hotIndexes
  /// A pass runs only if the last one (by any worker) started longer ago than this.
  public var interval: Duration
  /// The clock for the interval check; nil: the server's `now()`.
  public var now: Date?
}

/// What a reindex pass did.
public struct IndexReindexResult: Sendable, Hashable {
  public enum Outcome: String, Sendable, Hashable {
    /// The indexes were rebuilt.
    case reindexed
    /// Another session holds the reindex lock (another worker is reindexing).
    case lockHeld
    /// The last pass started less than `interval` ago.
    case notDue
    /// The session's role does not own the queue's tables (a least-privileged worker role):
    /// REINDEX needs ownership, so the pass is skipped; run it where the owner connects.
    case notOwner
  }

  public var outcome: Outcome
  /// Indexes rebuilt, in order.
  public var reindexed: [String]
  /// Invalid leftovers of an interrupted earlier rebuild (`…_ccnew`, `…_ccold`) dropped first.
  public var droppedLeftovers: [String]
}

extension JobStore {
  /// The queue's hot indexes: every claim, acknowledgement, rescue and promotion leaves dead
  /// entries in them, and a periodic rebuild keeps them at their live size.
  public static let hotIndexes = [
    "jobs_claim_idx", "jobs_lease_idx", "jobs_due_idx", "jobs_finished_idx", "jobs_pkey",
  ]

  /// A session-level advisory lock: one reindexer in the fleet at a time.
  static let reindexLockKey: Int64 = 7_301_002

  static let reindexLockSQL = "SELECT pg_try_advisory_lock($1)"

  static let reindexAllowedSQL = """
    -- REINDEX needs the table's owner (or a superuser); a worker role has neither.
    SELECT pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = 'jobs'::regclass),
                       'USAGE')
      OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
    """
  static let reindexUnlockSQL = "SELECT pg_advisory_unlock($1)"

  static let reindexClaimRunSQL = """
    -- Records this run's start if the last one started more than $1 seconds ago; no row comes
    -- back when it is not due. Runs under the advisory lock, so the check and the record are not
    -- raced by another reindexer.
    WITH clock AS (SELECT coalesce($2::timestamptz, now()) AS now)
    INSERT INTO maintenance_runs AS m (task, started_at)
    SELECT 'reindex', clock.now FROM clock
    ON CONFLICT (task) DO UPDATE SET started_at = excluded.started_at, finished_at = NULL
      WHERE m.started_at <= excluded.started_at - $1::float8 * interval '1 second'
    RETURNING task
    """

  static let reindexFinishRunSQL = """
    UPDATE maintenance_runs SET finished_at = clock_timestamp() WHERE task = 'reindex'
    """

  static let reindexForgetRunSQL = """
    -- A failed pass is due again at once (the service retries it after its backoff).
    UPDATE maintenance_runs SET started_at = '-infinity', finished_at = NULL WHERE task = 'reindex'
    """

  static let reindexLeftoversSQL = """
    -- An interrupted REINDEX CONCURRENTLY leaves invalid indexes named <index>_ccnew (or _ccold)
    -- that every write still maintains. Names come from the catalog, quoted by format(%I).
    SELECT c.relname, format('DROP INDEX CONCURRENTLY IF EXISTS %I.%I', n.nspname, c.relname)
    FROM pg_index i
    JOIN pg_class c ON c.oid = i.indexrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE NOT i.indisvalid AND c.relname ~ '_cc(new|old)[0-9]*$'
      AND i.indrelid = ANY(ARRAY['jobs'::regclass, 'batch_count_deltas'::regclass])
    ORDER BY c.relname
    """

  static let reindexStatementSQL = """
    -- The statement for one index, which must belong to a queue table; regclass output is the
    -- quoted (and, when needed, schema-qualified) name.
    SELECT format('REINDEX INDEX CONCURRENTLY %s', i.indexrelid::regclass)
    FROM pg_index i
    WHERE i.indexrelid = to_regclass($1)
      AND i.indrelid = ANY(ARRAY['jobs'::regclass, 'batch_count_deltas'::regclass])
    """

  /// Rebuilds the queue's hot indexes with `REINDEX INDEX CONCURRENTLY` (no lock that blocks
  /// claims or acknowledgements), at most once per `interval` across every worker sharing the
  /// database, one worker at a time (a session advisory lock; a pass that finds it taken skips).
  /// Invalid leftovers of an interrupted earlier rebuild are dropped first.
  ///
  /// It borrows a pooled connection of its own, outside any transaction: REINDEX CONCURRENTLY
  /// cannot run inside one, so there is deliberately no variant taking the caller's connection.
  /// - Throws: `JobQueueError.Code.invalidRequest` for a name that is not an index of a queue
  ///   table (checked before anything is rebuilt); `PostgresError`.
  public func indexReindex(_ params: IndexReindexParams) async throws -> IndexReindexResult {
    try await withConnection { connection in
      let allowed = try connection.query(Self.reindexAllowedSQL, name: "reindexAllowed").single()
        .decode(0, as: Bool.self)
      guard allowed else {
        return IndexReindexResult(outcome: .notOwner, reindexed: [], droppedLeftovers: [])
      }
      let locked = try connection.query(
        Self.reindexLockSQL, [Self.reindexLockKey], name: "reindexLock"
      ).single().decode(0, as: Bool.self)
      guard locked else {
        return IndexReindexResult(outcome: .lockHeld, reindexed: [], droppedLeftovers: [])
      }
      defer {
        _ = try? connection.query(
          Self.reindexUnlockSQL, [Self.reindexLockKey], name: "reindexUnlock")
      }
      var statements: [(String, String)] = []
      for index in params.indexes {
        guard
          let row = try connection.query(
            Self.reindexStatementSQL, [index], name: "reindexStatement"
          ).first
        else {
          throw JobQueueError(
            .invalidRequest,
            "\(index) is not an index of the queue's tables (jobs, batch_count_deltas); "
              + "list existing indexes only (default: \(Self.hotIndexes.joined(separator: ", ")))")
        }
        statements.append((index, try row.decode(0, as: String.self)))
      }
      let due = try connection.query(
        Self.reindexClaimRunSQL, [params.interval.seconds, params.now], name: "reindexClaimRun")
      guard !due.isEmpty else {
        return IndexReindexResult(outcome: .notDue, reindexed: [], droppedLeftovers: [])
      }
      do {
        var dropped: [String] = []
        for row in try connection.query(Self.reindexLeftoversSQL, name: "reindexLeftovers") {
          let (name, statement) = try row.decode((String, String).self)
          try connection.execute(statement, name: "reindexDropLeftover")
          dropped.append(name)
        }
        var reindexed: [String] = []
        for (index, statement) in statements {
          try connection.execute(statement, name: "reindex")
          reindexed.append(index)
        }
        try connection.query(Self.reindexFinishRunSQL, name: "reindexFinishRun")
        return IndexReindexResult(
          outcome: .reindexed, reindexed: reindexed, droppedLeftovers: dropped)
      } catch {
        _ = try? connection.query(Self.reindexForgetRunSQL, name: "reindexForgetRun")
        throw error
      }
    }
  }
}
