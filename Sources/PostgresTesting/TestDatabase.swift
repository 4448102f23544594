import Foundation
import Migrations
public import Postgres

/// A database of its own for one test, on the test server, created from a migrated template and
/// dropped afterwards, so tests run in parallel without seeing each other's rows.
///
/// ```swift
/// @Test func claimsOneJob() async throws {
///   try await withTestDatabase { database in
///     let store = JobStore(client: database.client)
///     ...
///   }
/// }
/// ```
///
/// The test server comes from `TROLLEY_TEST_DATABASE_URL`, else the usual
/// `TROLLEY_DATABASE_URL` / `DATABASE_URL` / `PG*` variables (`Ops/test` sets them). If none is
/// set or the server cannot be reached, creating a database throws: tests fail, never skip.
/// The migrated template (`trolley_tpl_<fingerprint of the migrations>`) is built once and reused
/// by every test process until the migrations change.
public final class TestDatabase: Sendable {
  /// The database's name (`trolley_test_<pid>_<n>`).
  public let name: String
  /// Settings that connect to this database.
  public let configuration: PostgresConfiguration
  /// A pool on this database (at most 4 connections), opened lazily.
  public let client: PostgresClient

  init(name: String, configuration: PostgresConfiguration) {
    self.name = name
    self.configuration = configuration
    self.client = PostgresClient(configuration: configuration, maximumConnections: 4)
  }

  /// Opens a new blocking connection to this database (for synchronous work; see `PostgresConnection`).
  public func connect() throws -> PostgresConnection {
    try PostgresConnection(configuration: configuration)
  }

  /// Runs `body` inside a transaction on a new connection and always rolls it back, for tests
  /// that only need to see their own writes (cheaper than a database of their own per case).
  /// - Returns: what `body` returns.
  /// - Throws: what `body` throws, or a `PostgresError`.
  public func withRolledBackTransaction<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
    let connection = try connect()
    defer { connection.close() }
    try connection.execute("BEGIN")
    defer { _ = try? connection.execute("ROLLBACK") }
    return try body(connection)
  }

  /// Creates a database for one test.
  /// - Parameter migrated: true (the default) for every Trolley migration applied; false for an
  ///   empty database (no `schema_migrations` either).
  /// - Throws: `PostgresError` with a message saying how to point the tests at a server.
  public static func create(migrated: Bool = true) async throws -> TestDatabase {
    let server = try TestServer.shared()
    let template = migrated ? try await server.template() : nil
    let name = "trolley_test_\(getpid())_\(server.nextNumber())"
    try await server.admin.withConnection { connection in
      if let template {
        try connection.execute(
          "CREATE DATABASE \(quoted(name)) TEMPLATE \(quoted(template))", name: "createTestDatabase"
        )
      } else {
        try connection.execute("CREATE DATABASE \(quoted(name))", name: "createTestDatabase")
      }
    }
    return TestDatabase(name: name, configuration: server.configuration.database(name))
  }

  /// Closes this object's pool and drops the database (even if others are still connected).
  public func drop() async throws {
    client.shutdown()
    let name = self.name
    try await TestServer.shared().admin.withConnection { connection in
      try connection.execute(
        "DROP DATABASE IF EXISTS \(quoted(name)) WITH (FORCE)", name: "dropTestDatabase")
    }
  }
}

/// Runs `body` with a fresh test database and drops it afterwards, whether `body` throws or not.
/// - Parameters:
///   - migrated: whether the database has Trolley's migrations applied (default true).
///   - body: the test.
public func withTestDatabase<T>(
  migrated: Bool = true, _ body: (TestDatabase) async throws -> T
) async throws -> T {
  let database = try await TestDatabase.create(migrated: migrated)
  do {
    let value = try await body(database)
    try await database.drop()
    return value
  } catch {
    try? await database.drop()
    throw error
  }
}

/// A double-quoted identifier for names this module generates (never user input).
func quoted(_ identifier: String) -> String {
  "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}
