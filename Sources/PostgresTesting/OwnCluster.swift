public import Foundation
import Migrations
public import Postgres

/// A PostgreSQL cluster of one test's own, for the chaos tests that stop, restart or kill the
/// server (the shared test server must never be restarted): a fresh home under the temporary
/// directory, started and migrated. `remove()` stops it and deletes its home.
public final class OwnCluster: Sendable {
  /// The cluster, to stop and start again.
  public let cluster: LocalCluster
  /// Where its data and socket live.
  public let home: URL
  /// How to reach it.
  public let configuration: PostgresConfiguration

  /// Starts and migrates a new cluster.
  /// - Parameter prefix: The start of the home's folder name, naming the test.
  public init(prefix: String) throws {
    home = URL(fileURLWithPath: NSTemporaryDirectory())
      .appendingPathComponent("\(prefix)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
    let cluster = LocalCluster(home: home, durable: false)
    self.cluster = cluster
    do {
      configuration = try cluster.start()
      let setup = try PostgresConnection(configuration: configuration)
      defer { setup.close() }
      _ = try Migrator.bundled().migrate(setup)
    } catch {
      _ = try? cluster.stop()
      try? FileManager.default.removeItem(at: home)
      throw error
    }
  }

  /// Stops the cluster (if it runs) and deletes its home.
  public func remove() {
    _ = try? cluster.stop()
    try? FileManager.default.removeItem(at: home)
  }
}
