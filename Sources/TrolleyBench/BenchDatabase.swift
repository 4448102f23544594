import Foundation
import Migrations
import Postgres

/// A migrated database of one benchmark run's own, on the server the operator named, dropped
/// when the run ends (returns or throws): the queue and dedupe benchmarks never touch a real one.
struct BenchDatabase {
  /// Its generated name (`<prefix>_<pid>_<random>`), which reports show.
  let name: String
  /// How to connect to it (the server's settings with this database).
  let configuration: PostgresConfiguration
  /// One connection for setup and the baselines' statements.
  let setup: PostgresConnection
  /// The pool the code under measurement uses.
  let client: PostgresClient

  /// Creates and migrates the database, runs `body` with it, drops it.
  ///
  /// - Parameters:
  ///   - server: where to create it (the user needs CREATEDB).
  ///   - prefix: the start of its name (`trolley_bench`, `trolley_bench_dedupe`).
  ///   - maximumConnections: the size of `client`'s pool.
  static func with<Result>(
    server: PostgresConfiguration, prefix: String, maximumConnections: Int,
    _ body: (BenchDatabase) async throws -> Result
  ) async throws -> Result {
    let name = "\(prefix)_\(getpid())_\(UInt32.random(in: 0...UInt32.max))"
    let admin = try PostgresConnection(configuration: server)
    defer { admin.close() }
    // A generated name, never user input; CREATE DATABASE takes no parameters.
    try admin.execute("CREATE DATABASE \"\(name)\"", name: "benchCreateDatabase")
    defer {
      try? admin.execute(
        "DROP DATABASE IF EXISTS \"\(name)\" WITH (FORCE)", name: "benchDropDatabase")
    }
    let configuration = server.database(name)
    let setup = try PostgresConnection(configuration: configuration)
    defer { setup.close() }
    _ = try Migrator.bundled().migrate(setup)
    let client = PostgresClient(
      configuration: configuration, maximumConnections: maximumConnections)
    defer { client.shutdown() }
    return try await body(
      BenchDatabase(name: name, configuration: configuration, setup: setup, client: client))
  }
}
