import Foundation
import Migrations
import Postgres
import PostgresTesting
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// `trolley migrate` and `trolley db ...`, run as the real binary.
@Suite(.serialized) struct DatabaseCommandTests {
  @Test func migrateAppliesOnceAndReportsStatus() async throws {
    try await withTestDatabase(migrated: false) { database in
      // Pending migrations: --status lists them and exits 1, so deploy scripts can gate on it.
      let pending = try await TrolleyCommand.run(["migrate", "--status"], database: database)
      #expect(pending.exitCode == 1, "\(pending.standardError)")
      #expect(pending.standardOutput.contains("pending; run `trolley migrate`"))
      let first = try await TrolleyCommand.run(["migrate"], database: database)
      #expect(first.exitCode == 0, "\(first.standardError)")
      #expect(first.standardOutput.contains("up to date"))
      let second = try await TrolleyCommand.run(["migrate"], database: database)
      #expect(second.exitCode == 0)
      #expect(second.standardOutput.contains("Already up to date"))
      let status = try await TrolleyCommand.run(["migrate", "--status"], database: database)
      #expect(status.exitCode == 0)
      #expect(status.standardOutput.hasSuffix("Up to date.\n"))
      #expect(!status.standardOutput.contains("pending"))
      let recorded = try await database.client.query("SELECT count(*) FROM schema_migrations")
        .single()
        .decode(0, as: Int64.self)
      #expect(recorded == Int64(try Migrator.bundledCount()))
    }
  }

  @Test func badDatabaseURLFailsWithoutLeakingThePassword() async throws {
    let result = try await TrolleyCommand.run(
      ["migrate", "--database-url", "postgresql://u:topsecret@/x?host=/nonexistent-trolley-socket"])
    #expect(result.exitCode == 1)
    #expect(result.standardError.contains("error:"))
    #expect(!result.standardError.contains("topsecret"))
  }

  @Test func embeddedDatabaseLifecycleAndRecoveryAfterKill() async throws {
    let home = "/tmp/trolley-e2e-home-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
    let environment = ["TROLLEY_HOME": home, "TROLLEY_DB_FSYNC": "off"]
    func trolley(_ arguments: String...) async throws -> TrolleyCommand.Result {
      try await TrolleyCommand.run(arguments, environment: environment)
    }
    /// The text in the first column of `sql`'s single row.
    func text(_ sql: String, on connection: PostgresConnection) throws -> String {
      try connection.query(sql).single().decode(0, as: String.self)
    }
    defer {
      if let layout = FileManager.default.contents(atPath: home + "/postgres.json"),
        let object = try? JSONSerialization.jsonObject(with: layout) as? [String: Any],
        let root = object["root"] as? String
      {
        _ = try? LocalCluster(home: URL(fileURLWithPath: home)).stop()
        try? FileManager.default.removeItem(atPath: root)
      }
      try? FileManager.default.removeItem(atPath: home)
    }
    let before = try await trolley("db", "status")
    #expect(before.exitCode == 3)
    #expect(before.standardOutput.contains("not created"))

    let start = try await trolley("db", "start")
    #expect(start.exitCode == 0, "\(start.standardError)")
    let url = try await trolley("db", "url")
    #expect(url.exitCode == 0)
    let uri = url.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(uri.hasPrefix("postgresql:///trolley?host="))
    let connection = try PostgresConnection(configuration: PostgresConfiguration(uri))
    #expect(try text("SELECT current_database()", on: connection) == "trolley")
    connection.close()

    let status = try await trolley("db", "status")
    #expect(status.exitCode == 0)
    #expect(status.standardOutput.contains("state:     running"))
    let json = try await trolley("db", "status", "--json")
    #expect(json.exitCode == 0)
    let object = try #require(
      try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any])
    #expect(object["running"] as? Bool == true)
    #expect(object["url"] as? String == uri)
    let urlJSON = try await trolley("db", "url", "--json")
    #expect(
      urlJSON.standardOutput == "{\"url\":\"\(uri)\"}\n" || urlJSON.standardOutput.contains(uri))

    // Every other command uses (and starts) the embedded database when nothing is configured.
    let stop = try await trolley("db", "stop")
    #expect(stop.standardOutput == "stopped\n")
    let migrate = try await trolley("migrate")
    #expect(migrate.exitCode == 0, "\(migrate.standardError)")
    #expect(try await trolley("db", "status").exitCode == 0)

    // Issue 13: migrate sets up the least-privileged worker role on the embedded cluster; it can
    // work the queue but not change the schema.
    #expect(
      migrate.standardOutput.contains("created  role trolley_worker"), "\(migrate.standardOutput)")
    let workerURL = try await trolley("db", "url", "--worker")
    let workerURI = workerURL.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(workerURI.hasSuffix("user=trolley_worker"))
    let worker = try PostgresConnection(configuration: PostgresConfiguration(workerURI))
    #expect(try text("SELECT current_user", on: worker) == "trolley_worker")
    #expect(try worker.query("SELECT count(*) FROM jobs").single().decode(0, as: Int64.self) == 0)
    do {
      try worker.execute("ALTER TABLE jobs ADD COLUMN stolen text")
      Issue.record("the worker role changed the schema")
    } catch let error as PostgresError {
      #expect(error.sqlState == "42501")
    }
    worker.close()
    #expect(try await trolley("migrate").standardOutput.contains("Already up to date"))

    // kill -9 the server: the next command recovers.
    let pid = try #require(try LocalCluster(home: URL(fileURLWithPath: home)).status().pid)
    #expect(kill(pid, SIGKILL) == 0)
    while LocalCluster.isRunningProcess(pid) { usleep(10_000) }
    let afterKill = try await trolley("migrate", "--status")
    #expect(afterKill.exitCode == 0, "\(afterKill.standardError)")
    #expect(afterKill.standardOutput.contains("Up to date."))

    #expect(try await trolley("db", "stop").standardOutput == "stopped\n")
    #expect(try await trolley("db", "stop").standardOutput == "not running\n")
    #expect(try await trolley("db", "stop", "--json").standardOutput == "{\"stopped\":false}\n")
    let stopped = try await trolley("db", "status", "--json")
    #expect(stopped.exitCode == 3)
    #expect(stopped.standardOutput.contains("\"running\":false"))
  }
}

extension Migrator {
  static func bundledCount() throws -> Int { try Migrator.bundled().migrations.count }
}
