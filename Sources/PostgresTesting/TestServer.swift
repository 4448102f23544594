import Foundation
import Migrations
public import Postgres

/// The PostgreSQL server the tests use, and the migrated template databases on it.
public final class TestServer: Sendable {
  /// Settings for the server's maintenance database (as configured by the environment).
  public let configuration: PostgresConfiguration
  /// A pool for CREATE/DROP DATABASE.
  let admin: PostgresClient
  private let counter = Locked(0)
  private let templateTask = Locked<Task<String, any Error>?>(nil)

  private static let instance = Locked<TestServer?>(nil)

  /// The variable that, when set, wins over the usual database variables for tests.
  public static let environmentVariable = "TROLLEY_TEST_DATABASE_URL"

  init(configuration: PostgresConfiguration) {
    self.configuration = configuration
    self.admin = PostgresClient(configuration: configuration, maximumConnections: 2)
  }

  /// The test server, from the environment.
  /// - Throws: `PostgresError.Code.invalidConfiguration` when no server is configured.
  public static func shared() throws -> TestServer {
    try instance.withLock { instance in
      if let instance { return instance }
      let environment = ProcessInfo.processInfo.environment
      let configuration: PostgresConfiguration
      if let url = environment[environmentVariable], !url.isEmpty {
        configuration = PostgresConfiguration(url)
      } else if let fromEnvironment = PostgresConfiguration.fromEnvironment(environment) {
        configuration = fromEnvironment
      } else {
        throw PostgresError(
          .invalidConfiguration,
          "Database tests need a PostgreSQL server and none is configured: run Ops/test, or export TROLLEY_TEST_DATABASE_URL (or PGHOST, PGPORT, PGUSER) for a server where this user may CREATE DATABASE"
        )
      }
      let server = TestServer(configuration: configuration)
      instance = server
      return server
    }
  }

  func nextNumber() -> Int {
    counter.withLock { value in
      value += 1
      return value
    }
  }

  /// The name of the migrated template database, built on first use.
  func template() async throws -> String {
    let task = templateTask.withLock { task -> Task<String, any Error> in
      if let task { return task }
      let admin = self.admin
      let configuration = self.configuration
      let created = Task {
        try await Self.buildTemplate(admin: admin, configuration: configuration)
      }
      task = created
      return created
    }
    return try await task.value
  }

  /// Builds `trolley_tpl_<fingerprint>` unless it exists. An advisory lock keeps concurrent test
  /// processes from building it twice; it is built under another name and renamed when complete,
  /// so a half-built template is never used.
  private static func buildTemplate(
    admin: PostgresClient, configuration: PostgresConfiguration
  ) async throws -> String {
    let migrations = try Migration.bundled()
    let fingerprint = Migration(
      version: 1, name: "all", sql: migrations.map(\.checksum).joined(separator: ",")
    ).checksum
    let name = "trolley_tpl_\(fingerprint)"
    let building = "\(name)_\(getpid())"
    let lockKey: Int64 = 0x7472_6f6c_7470_6c21  // "troltpl!"
    try await admin.withConnection { connection in
      try connection.query("SELECT pg_advisory_lock($1)", [lockKey])
      defer { _ = try? connection.query("SELECT pg_advisory_unlock($1)", [lockKey]) }
      let exists =
        try connection.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]).count == 1
      if exists { return }
      try connection.execute("DROP DATABASE IF EXISTS \(quoted(building)) WITH (FORCE)")
      try connection.execute("CREATE DATABASE \(quoted(building))")
      do {
        let target = try PostgresConnection(configuration: configuration.database(building))
        defer { target.close() }
        try Migrator(migrations: migrations).migrate(target)
      }
      try connection.execute("ALTER DATABASE \(quoted(building)) RENAME TO \(quoted(name))")
    }
    return name
  }
}
