import Postgres
import TrolleyBasics

extension JobStore {
  static let jobStagingAssignIDsSQL = """
    -- Ids are taken up front (in the caller's row order) so that edges can name rows of this call
    -- before they exist; rows skipped for a used unique key leave a gap.
    UPDATE job_insert_rows r SET id = o.id
    FROM (SELECT ordinal, nextval(pg_get_serial_sequence('jobs', 'id')) AS id
          FROM (SELECT ordinal FROM job_insert_rows ORDER BY ordinal) s) o
    WHERE r.ordinal = o.ordinal
    """

  static let jobStagingEdgesSQL = """
    -- Every (row, dependency) pair once. A key names the existing job with it, else the first
    -- earlier row of this call with it; NULL when neither exists (reported as an error).
    WITH keyed AS (
      SELECT DISTINCT ON (unique_key) unique_key, ordinal, id FROM job_insert_rows
      WHERE unique_key IS NOT NULL ORDER BY unique_key, ordinal),
    pairs AS (
      SELECT r.ordinal AS job_ordinal, r.id AS job_id, d.id AS depends_on, NULL::text AS via_key
      FROM job_insert_rows r, unnest(r.depends_on) AS d(id)
      UNION ALL
      SELECT r.ordinal, r.id, coalesce(j.id, CASE WHEN e.ordinal < r.ordinal THEN e.id END), k.key
      FROM job_insert_rows r
      CROSS JOIN unnest(r.depends_on_keys) AS k(key)
      LEFT JOIN jobs j ON j.unique_key = k.key
      LEFT JOIN keyed e ON e.unique_key = k.key)
    INSERT INTO job_insert_edges (job_ordinal, job_id, depends_on, via_key)
    SELECT DISTINCT ON (job_ordinal, depends_on, CASE WHEN depends_on IS NULL THEN via_key END)
      job_ordinal, job_id, depends_on, via_key
    FROM pairs
    ORDER BY job_ordinal, depends_on, CASE WHEN depends_on IS NULL THEN via_key END
    """

  static let jobStagingUnresolvedSQL = """
    -- The first dependency that names nothing: a key no existing job and no earlier row has, or
    -- an id no job has.
    SELECT e.job_ordinal, e.via_key, e.depends_on FROM job_insert_edges e
    WHERE e.depends_on IS NULL
       OR (e.via_key IS NULL AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = e.depends_on))
    ORDER BY e.job_ordinal LIMIT 1
    """

  static let jobInsertFromStagingWithDependenciesSQL = """
    -- As jobInsert does for one job: lock and mark the existing dependencies (so each one's
    -- completion either committed before this statement, and its state is read here, or runs
    -- after this transaction and finds the new dependents), then insert each row waiting for the
    -- dependencies that have not succeeded (rows of this call count as not succeeded), or
    -- cancelled naming the lowest-numbered dependency that already ended dead or cancelled.
    WITH clock AS (SELECT coalesce($2::timestamptz, now()) AS now),
    marked AS (
      UPDATE jobs SET has_dependents = true
      WHERE id IN (SELECT depends_on FROM job_insert_edges)
      RETURNING id, state),
    settled AS (
      SELECT e.job_ordinal,
        count(*) FILTER (WHERE m.state IS DISTINCT FROM 'succeeded')::integer AS pending,
        min(e.depends_on) FILTER (WHERE m.state IN ('dead', 'cancelled')) AS failed
      FROM job_insert_edges e LEFT JOIN marked m ON m.id = e.depends_on
      GROUP BY e.job_ordinal),
    inserted AS (
      INSERT INTO jobs (id, queue, kind, payload, priority, run_at, state, max_attempts,
                        max_crashes, batch_id, unique_key, pending_dependencies, has_dependents,
                        last_error, finished_at, cancelled_by)
      OVERRIDING SYSTEM VALUE
      SELECT s.id, s.queue, s.kind, s.payload, s.priority,
        coalesce(to_timestamp(s.run_at_epoch), clock.now),
        (CASE WHEN d.failed IS NOT NULL THEN 'cancelled'
              WHEN coalesce(d.pending, 0) > 0 THEN 'waiting'
              WHEN to_timestamp(s.run_at_epoch) > clock.now THEN 'scheduled'
              ELSE 'available' END)::job_state,
        s.max_attempts, s.max_crashes, $1, s.unique_key, coalesce(d.pending, 0),
        EXISTS (SELECT 1 FROM job_insert_edges t WHERE t.depends_on = s.id),
        CASE WHEN d.failed IS NOT NULL THEN 'cancelled: dependency ' || d.failed || ' ended '
          || (SELECT m.state::text FROM marked m WHERE m.id = d.failed) END,
        CASE WHEN d.failed IS NOT NULL THEN clock.now END,
        d.failed
      FROM job_insert_rows s CROSS JOIN clock
      LEFT JOIN settled d ON d.job_ordinal = s.ordinal
      WHERE s.unique_key IS NULL
        OR NOT EXISTS (SELECT 1 FROM job_keys_retired r WHERE r.unique_key = s.unique_key)
      ORDER BY s.ordinal
      ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL DO NOTHING
      RETURNING id, state, has_dependents),
    -- Edges of skipped rows are dropped with them; foreign keys are checked at the end of the
    -- statement, when the inserted jobs exist.
    linked AS (
      INSERT INTO job_dependencies (job_id, depends_on)
      SELECT e.job_id, e.depends_on FROM job_insert_edges e
      WHERE e.job_id IN (SELECT id FROM inserted))
    SELECT count(*),
      coalesce(array_agg(id) FILTER (WHERE state = 'cancelled' AND has_dependents), '{}')
    FROM inserted
    """

  /// The staged path for rows with dependencies: ids first, then edges (checked), then the rows,
  /// then the cascade. - Returns: the number of jobs added.
  func insertStagedWithDependencies(
    _ params: JobInsertManyParams, on connection: PostgresConnection
  ) throws -> Int {
    try connection.query(Self.jobStagingAssignIDsSQL, name: "jobStagingAssignIDs")
    try connection.query(Self.jobStagingEdgesSQL, name: "jobStagingEdges")
    if let row = try connection.query(Self.jobStagingUnresolvedSQL, name: "jobStagingUnresolved")
      .first
    {
      let (ordinal, key, id) = try row.decode((Int64, String?, Int64?).self)
      let what =
        if let key {
          "unique key \"\(key)\", but no existing job has it and no earlier row of this call does"
        } else {
          "job \(id.map { String($0) } ?? "?"), which does not exist"
        }
      throw JobQueueError(
        .dependencyNotFound,
        "Row \(ordinal + 1) depends on \(what). Nothing was enqueued; a row can depend on "
          + "existing jobs (by id or unique key) and on earlier rows of the same call (by key).")
    }
    let row = try connection.query(
      Self.jobInsertFromStagingWithDependenciesSQL, [params.batchID, params.now],
      name: "jobInsertFromStagingWithDependencies"
    ).single()
    let added = try row.decode(0, as: Int64.self)
    let cancelled = try row.decode(1, as: [Int64].self)
    if !cancelled.isEmpty {
      // Rows of this call cancelled at insert (a dependency had already failed) take their
      // dependents in the call with them; a statement of its own, because the edges inserted
      // above are invisible within that statement.
      try jobSettleDependents(of: cancelled, now: params.now, on: connection)
    }
    return Int(added)
  }

  /// A PostgreSQL array literal (`{1,2}`, `{"a","b \"c\""}`), or nil for an empty list.
  static func arrayLiteral(_ items: [String], quoted: Bool) -> String? {
    guard !items.isEmpty else { return nil }
    let elements = items.map { item -> String in
      guard quoted else { return item }
      var out = "\""
      for character in item.unicodeScalars {
        if character == "\"" || character == "\\" { out.unicodeScalars.append("\\") }
        out.unicodeScalars.append(character)
      }
      return out + "\""
    }
    return "{" + elements.joined(separator: ",") + "}"
  }
}
