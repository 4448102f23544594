public import Postgres

/// What setting up the worker role did.
public struct WorkerRoleSetup: Sendable, Hashable {
  /// The role.
  public var role: String
  /// It was created now (only when asked to, on the embedded cluster).
  public var created: Bool
  /// It exists and was granted what a worker needs; false: it does not exist (nothing done).
  public var granted: Bool
}

extension JobStore {
  /// The least-privileged role workers connect as: it can claim, heartbeat, acknowledge, enqueue
  /// and run retention, but owns nothing, so it cannot change the schema (no ALTER, DROP or
  /// CREATE in the queue's schema; PostgreSQL 15 and later give PUBLIC no CREATE there).
  public static let workerRole = "trolley_worker"

  static let roleExistsSQL = "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)"

  /// Identifiers are quoted by the server (format %I), never spliced from text.
  static let createRoleSQL = "SELECT format('CREATE ROLE %I LOGIN', $1::text)"

  static let workerGrantsSQL = """
    SELECT format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO %I', current_database(), $1::text)
    UNION ALL
    SELECT format('GRANT USAGE ON SCHEMA %I TO %I', current_schema(), $1::text)
    UNION ALL
    SELECT format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO %I',
                  current_schema(), $1::text)
    UNION ALL
    SELECT format('GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA %I TO %I',
                  current_schema(), $1::text)
    UNION ALL
    -- The migrations' record is the owner's alone.
    SELECT format('REVOKE INSERT, UPDATE, DELETE ON %I.schema_migrations FROM %I',
                  current_schema(), $1::text)
    WHERE to_regclass('schema_migrations') IS NOT NULL
    """

  /// Grants `role` what a worker needs on the queue's tables and sequences in the current
  /// schema (run after every migration, so new tables are covered). With `create`, creates the
  /// role first if it does not exist (the embedded cluster, whose socket-only trust
  /// authentication needs no password); otherwise a missing role is left alone.
  /// - Throws: `PostgresError` (for example without the right to create roles).
  @discardableResult
  public static func workerRoleSetUp(
    role: String = JobStore.workerRole, create: Bool, on connection: PostgresConnection
  ) throws -> WorkerRoleSetup {
    var exists = try connection.query(Self.roleExistsSQL, [role], name: "roleExists").single()
      .decode(0, as: Bool.self)
    var created = false
    if !exists && create {
      let statement = try connection.query(Self.createRoleSQL, [role], name: "createRole")
        .single().decode(0, as: String.self)
      try connection.execute(statement)
      exists = true
      created = true
    }
    guard exists else { return WorkerRoleSetup(role: role, created: false, granted: false) }
    try connection.withTransaction { connection in
      for row in try connection.query(Self.workerGrantsSQL, [role], name: "workerGrants") {
        try connection.execute(try row.decode(0, as: String.self))
      }
    }
    return WorkerRoleSetup(role: role, created: created, granted: true)
  }
}
