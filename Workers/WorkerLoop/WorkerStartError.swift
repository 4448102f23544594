public import Postgres

/// Why a worker cannot start, when no retry can fix it: the database has no (or an older)
/// Trolley schema, the role lacks privileges, or the login is refused. The message says what to
/// do; `trolley worker` prints it and exits 1.
public struct WorkerStartError: Error, CustomStringConvertible {
  /// The database's error.
  public let underlying: PostgresError

  public init(_ underlying: PostgresError) { self.underlying = underlying }

  public var description: String {
    let fix: String
    switch underlying.sqlState {
    case "42P01", "42704", "42883", "42703":
      fix = "the database has no Trolley schema, or an older one: run `trolley migrate` against it"
    case "42501":
      fix =
        "the worker's database role lacks privileges on the queue: run `trolley migrate` (it "
        + "grants the trolley_worker role what workers need) or connect as a role that has them"
    default:
      fix =
        "the database refused the connection: check the database URL (TROLLEY_DATABASE_URL or "
        + "--database-url), its user, password and database name"
    }
    return "cannot start the worker: \(underlying). Fix: \(fix)."
  }
}
