import Foundation
import Migrations
import Postgres
import PostgresTesting
import Testing

struct MigratorTests {
  /// Three small migrations; the second holds several statements and a function body with `;`.
  static let sample: [Migration] = [
    Migration(
      version: 1, name: "0001_widgets",
      sql: "CREATE TABLE widgets (id int8 PRIMARY KEY, name text NOT NULL);"),
    Migration(
      version: 2, name: "0002_gadgets",
      sql: """
        CREATE TABLE gadgets (id int8 PRIMARY KEY);
        CREATE FUNCTION gadget_count() RETURNS int8 LANGUAGE sql AS $$ SELECT count(*) FROM gadgets; $$;
        INSERT INTO gadgets VALUES (1), (2);
        """),
    Migration(version: 10, name: "0010_index", sql: "CREATE INDEX widgets_name ON widgets (name);"),
  ]

  @Test func appliesInOrderOnceAndReportsStatus() async throws {
    try await withTestDatabase(migrated: false) { database in
      let connection = try database.connect()
      let migrator = try Migrator(migrations: Self.sample.reversed())
      #expect(try migrator.status(connection).allSatisfy { $0.state == .pending })
      let applied = try migrator.migrate(connection)
      #expect(applied.map(\.version) == [1, 2, 10])
      // Idempotent: a second run does nothing and changes nothing.
      #expect(try migrator.migrate(connection).isEmpty)
      #expect(try connection.query("SELECT gadget_count()").single().decode(0, as: Int64.self) == 2)
      let statuses = try migrator.status(connection)
      #expect(statuses.map(\.version) == [1, 2, 10])
      for status in statuses {
        guard case .applied = status.state else {
          Issue.record("\(status.name) is \(status.state)")
          continue
        }
      }
      let recorded = try connection.query("SELECT count(*) FROM schema_migrations").single().decode(
        0, as: Int64.self)
      #expect(recorded == 3)
    }
  }

  @Test func failingMigrationRollsBackAndKeepsEarlierOnes() async throws {
    try await withTestDatabase(migrated: false) { database in
      let connection = try database.connect()
      let broken =
        Self.sample + [
          Migration(
            version: 11, name: "0011_broken", sql: "CREATE TABLE half (id int8); SELEC oops;")
        ]
      let error = #expect(throws: PostgresError.self) {
        try Migrator(migrations: broken).migrate(connection)
      }
      #expect(error?.sqlState == PostgresError.SQLState.syntaxError)
      #expect(error?.statement == "0011_broken")
      let tables = try connection.query(
        "SELECT to_regclass('half') IS NULL, to_regclass('widgets') IS NOT NULL"
      ).single()
      #expect(try tables.decode((Bool, Bool).self) == (true, true))
      let versions = try connection.query(
        "SELECT array_agg(version ORDER BY version) FROM schema_migrations"
      ).single()
      #expect(try versions.decode(0, as: [Int64].self) == [1, 2, 10])
    }
  }

  @Test func editedMigrationIsRefusedAndShownAsChanged() async throws {
    try await withTestDatabase(migrated: false) { database in
      let connection = try database.connect()
      try Migrator(migrations: Self.sample).migrate(connection)
      var edited = Self.sample
      edited[0] = Migration(
        version: 1, name: "0001_widgets", sql: "CREATE TABLE widgets (id int8);")
      let error = #expect(throws: PostgresError.self) {
        try Migrator(migrations: edited).migrate(connection)
      }
      #expect(error?.code == .migration)
      let status = try Migrator(migrations: Array(edited.prefix(1))).status(connection)
      #expect(status.count == 3)
      guard case .changed = status[0].state else {
        Issue.record("expected changed, got \(status[0].state)")
        return
      }
      guard case .unknown = status[1].state else {
        Issue.record("expected unknown, got \(status[1].state)")
        return
      }
    }
  }

  @Test func concurrentMigratorsApplyEachMigrationOnce() async throws {
    try await withTestDatabase(migrated: false) { database in
      // A slow first migration widens the window in which the two would collide without the lock.
      let slow =
        [
          Migration(
            version: 1, name: "0001_slow", sql: "SELECT pg_sleep(0.3); CREATE TABLE slow (id int8);"
          )
        ]
        + Self.sample.map { Migration(version: $0.version + 1, name: $0.name, sql: $0.sql) }
      let migrator = try Migrator(migrations: slow)
      let first = PostgresClient(configuration: database.configuration, maximumConnections: 1)
      let second = PostgresClient(configuration: database.configuration, maximumConnections: 1)
      defer {
        first.shutdown()
        second.shutdown()
      }
      async let a = first.withConnection { try migrator.migrate($0).map(\.version) }
      async let b = second.withConnection { try migrator.migrate($0).map(\.version) }
      let (appliedA, appliedB) = try await (a, b)
      #expect((appliedA + appliedB).sorted() == [1, 2, 3, 11])
      let recorded = try await first.query("SELECT count(*) FROM schema_migrations").single()
        .decode(0, as: Int64.self)
      #expect(recorded == 4)
    }
  }

  @Test func bundledMigrationsLoadAndApplyToAnEmptyDatabase() async throws {
    let bundled = try Migration.bundled()
    #expect(bundled.map(\.version) == bundled.map(\.version).sorted())
    try await withTestDatabase(migrated: false) { database in
      let connection = try database.connect()
      let migrator = try Migrator(migrations: bundled)
      #expect(try migrator.migrate(connection).count == bundled.count)
      #expect(try migrator.migrate(connection).isEmpty)
    }
  }

  @Test func loadsFilesAndRejectsBadNames() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
      "trolley-migrations-\(UUID())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    try "SELECT 2;".write(
      to: directory.appendingPathComponent("0002_two.sql"), atomically: true, encoding: .utf8)
    try "SELECT 1;".write(
      to: directory.appendingPathComponent("0001_one.sql"), atomically: true, encoding: .utf8)
    try "notes".write(
      to: directory.appendingPathComponent("README.md"), atomically: true, encoding: .utf8)
    let loaded = try Migration.load(from: directory)
    #expect(loaded.map(\.name) == ["0001_one", "0002_two"])
    #expect(loaded[0].checksum != loaded[1].checksum)
    try "SELECT 3;".write(
      to: directory.appendingPathComponent("0002_clash.sql"), atomically: true, encoding: .utf8)
    #expect(throws: PostgresError.self) { try Migration.load(from: directory) }
    try FileManager.default.removeItem(at: directory.appendingPathComponent("0002_clash.sql"))
    try "SELECT 3;".write(
      to: directory.appendingPathComponent("three.sql"), atomically: true, encoding: .utf8)
    #expect(throws: PostgresError.self) { try Migration.load(from: directory) }
  }
}
