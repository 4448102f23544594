import Foundation
public import Postgres

/// Applies numbered migrations in order, each in its own transaction, recording each in
/// `schema_migrations` (created on first use).
///
/// A session-level advisory lock serializes migrators, so two processes migrating the same
/// database at once are safe: the second waits, then finds nothing left to do. Migrating an
/// up-to-date database does nothing.
///
/// ```swift
/// let applied = try Migrator.bundled().migrate(connection)    // [Migration] applied just now
/// for status in try Migrator.bundled().status(connection) { ... }
/// ```
public struct Migrator: Sendable {
  /// The migrations this migrator knows, sorted by version.
  public let migrations: [Migration]

  /// The advisory lock key (`pg_advisory_lock`) that serializes migrators: "trolley!" in ASCII.
  public static let lockKey: Int64 = 0x7472_6f6c_6c65_7921

  static let createTable = """
    CREATE TABLE IF NOT EXISTS schema_migrations (
      version bigint PRIMARY KEY,
      name text NOT NULL,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )
    """
  static let selectApplied =
    "SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version"
  static let insertApplied =
    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)"

  /// Creates a migrator for these migrations.
  /// - Throws: `PostgresError.Code.migration` if two share a version.
  public init(migrations: [Migration]) throws {
    let sorted = migrations.sorted { $0.version < $1.version }
    for (previous, next) in zip(sorted, sorted.dropFirst()) where previous.version == next.version {
      throw MigrationError("Migrations \(previous.name) and \(next.name) have the same number")
    }
    self.migrations = sorted
  }

  /// A migrator for the migrations shipped with Trolley (`Migration.bundled()`).
  public static func bundled() throws -> Migrator {
    try Migrator(migrations: try Migration.bundled())
  }

  /// Applies every pending migration, in version order.
  /// - Parameter connection: a connection outside any transaction.
  /// - Returns: the migrations applied by this call (empty when already up to date).
  /// - Throws: `PostgresError.Code.migration` if an applied migration's file has since changed;
  ///   the server's error (naming the migration as the statement) if one fails, in which case it
  ///   is rolled back and the ones before it stay applied.
  @discardableResult
  public func migrate(_ connection: PostgresConnection) throws -> [Migration] {
    try withLock(connection) {
      let applied = try appliedMigrations(connection)
      for migration in migrations {
        if let record = applied[migration.version], record.checksum != migration.checksum {
          throw MigrationError(
            "Migration \(migration.name) was changed after it was applied to this database; add a new migration instead of editing an applied one"
          )
        }
      }
      var done: [Migration] = []
      for migration in migrations where applied[migration.version] == nil {
        try connection.withTransaction { connection in
          try connection.execute(migration.sql, name: migration.name)
          try connection.query(
            Self.insertApplied, [migration.version, migration.name, migration.checksum],
            name: "migrationRecord")
        }
        done.append(migration)
      }
      return done
    }
  }

  /// Every known or recorded migration and its state, by version.
  /// - Throws: `PostgresError`.
  public func status(_ connection: PostgresConnection) throws -> [MigrationStatus] {
    let applied = try withLock(connection) { try appliedMigrations(connection) }
    var statuses: [MigrationStatus] = migrations.map { migration in
      guard let record = applied[migration.version] else {
        return MigrationStatus(version: migration.version, name: migration.name, state: .pending)
      }
      let state: MigrationStatus.State =
        record.checksum == migration.checksum
        ? .applied(record.appliedAt) : .changed(record.appliedAt)
      return MigrationStatus(version: migration.version, name: migration.name, state: state)
    }
    let known = Set(migrations.map(\.version))
    for (version, record) in applied where !known.contains(version) {
      statuses.append(
        MigrationStatus(version: version, name: record.name, state: .unknown(record.appliedAt)))
    }
    return statuses.sorted { $0.version < $1.version }
  }

  private struct AppliedRecord {
    let name: String
    let checksum: String
    let appliedAt: Date
  }

  private func appliedMigrations(_ connection: PostgresConnection) throws -> [Int64: AppliedRecord]
  {
    try connection.execute(Self.createTable, name: "migrationTable")
    var records: [Int64: AppliedRecord] = [:]
    for row in try connection.query(Self.selectApplied, name: "migrationApplied") {
      let (version, name, checksum, appliedAt) = try row.decode((Int64, String, String, Date).self)
      records[version] = AppliedRecord(name: name, checksum: checksum, appliedAt: appliedAt)
    }
    return records
  }

  private func withLock<T>(_ connection: PostgresConnection, _ body: () throws -> T) throws -> T {
    try connection.query("SELECT pg_advisory_lock($1)", [Self.lockKey], name: "migrationLock")
    defer {
      _ = try? connection.query(
        "SELECT pg_advisory_unlock($1)", [Self.lockKey], name: "migrationUnlock")
    }
    return try body()
  }
}
