import Migrations
import Postgres
import PostgresTesting
import Testing

/// The isolation PostgresTesting promises to every database test.
struct TestDatabaseTests {
  @Test func databasesAreSeparateAndDroppedAfterwards() async throws {
    let name = try await withTestDatabase(migrated: false) { first in
      try await withTestDatabase(migrated: false) { second in
        #expect(first.name != second.name)
        try await first.client.execute("CREATE TABLE mine (id int8)")
        let seen = try await second.client.query("SELECT to_regclass('mine') IS NULL").single()
        #expect(try seen.decode(0, as: Bool.self))
      }
      return first.name
    }
    let server = try TestServer.shared()
    let admin = try PostgresConnection(configuration: server.configuration)
    defer { admin.close() }
    #expect(try admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]).isEmpty)
  }

  @Test func migratedDatabasesHaveEveryBundledMigration() async throws {
    try await withTestDatabase { database in
      let connection = try database.connect()
      let applied = try connection.query("SELECT count(*) FROM schema_migrations").single().decode(
        0, as: Int64.self)
      let latest = try connection.query("SELECT coalesce(max(version), 0) FROM schema_migrations")
        .single()
        .decode(0, as: Int64.self)
      let bundled = try Migration.bundled()
      #expect(applied == Int64(bundled.count))
      #expect(latest == (bundled.last?.version ?? 0))
    }
  }

  @Test func rolledBackTransactionLeavesNothing() async throws {
    try await withTestDatabase(migrated: false) { database in
      try await database.client.execute("CREATE TABLE t (id int8)")
      let inside = try database.withRolledBackTransaction { connection in
        try connection.query("INSERT INTO t VALUES (1)")
        return try connection.query("SELECT count(*) FROM t").single().decode(0, as: Int64.self)
      }
      #expect(inside == 1)
      let after = try await database.client.query("SELECT count(*) FROM t").single().decode(
        0, as: Int64.self)
      #expect(after == 0)
    }
  }
}
