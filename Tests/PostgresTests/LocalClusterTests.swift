import Foundation
import Postgres
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// These tests run their own throw-away clusters (as the `postgres` user when run as root),
/// never the shared server, so they may stop and kill them.
@Suite(.serialized) struct LocalClusterTests {
  /// A fresh home in /tmp that the service user can traverse, removed (with its cluster) after.
  func withCluster(_ body: (LocalCluster) async throws -> Void) async throws {
    let home = URL(fileURLWithPath: "/tmp/trolley-cluster-test-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
    chmod(home.path, 0o755)
    let cluster = LocalCluster(home: home, durable: false)
    defer {
      let data = (try? cluster.status())?.dataDirectory
      _ = try? cluster.stop()
      if let data {
        try? FileManager.default.removeItem(
          atPath: URL(fileURLWithPath: data).deletingLastPathComponent().path)
      }
      try? FileManager.default.removeItem(at: home)
    }
    try await body(cluster)
  }

  func postmasterPID(_ cluster: LocalCluster) throws -> Int32 {
    try #require(try cluster.status().pid)
  }

  @Test func startStatusURLStopAndRecoveryAfterKill() async throws {
    try await withCluster { cluster in
      #expect(try cluster.status().exists == false)
      #expect(throws: PostgresError.self) { try cluster.url() }
      let configuration = try cluster.start()
      let status = try cluster.status()
      #expect(status.exists && status.isRunning)
      #expect(status.url == (try cluster.url()))
      // The URL works on its own, as any libpq tool would use it.
      let viaURL = try PostgresConnection(configuration: PostgresConfiguration(try cluster.url()))
      let database = try viaURL.query("SELECT current_database(), current_user").single()
      #expect(try database.decode((String, String).self) == ("trolley", "trolley"))
      // Unix socket only: no TCP listener.
      let listen = try viaURL.query("SHOW listen_addresses").single().decode(0, as: String.self)
      #expect(listen == "")
      viaURL.close()
      // Starting again is a no-op on a running server.
      #expect(try cluster.start() == configuration)
      #expect(try postmasterPID(cluster) == status.pid)

      // kill -9 the postmaster: the next start recovers (stale pid file, crash recovery).
      let pid = try postmasterPID(cluster)
      #expect(kill(pid, SIGKILL) == 0)
      while LocalCluster.isRunningProcess(pid) { usleep(10_000) }
      try cluster.start()
      let recovered = try PostgresConnection(configuration: configuration)
      #expect(try recovered.query("SELECT 1").single().decode(0, as: Int.self) == 1)
      #expect(try postmasterPID(cluster) != pid)
      recovered.close()

      #expect(try cluster.stop())
      #expect(try cluster.status().isRunning == false)
      #expect(try cluster.stop() == false)
    }
  }

  @Test func connectionPoolAndListenerReconnectAfterServerRestart() async throws {
    try await withCluster { cluster in
      let configuration = try cluster.start()
      let connection = try PostgresConnection(configuration: configuration)
      try connection.execute("CREATE TABLE IF NOT EXISTS t (id int8)")
      let firstPID = connection.backendPID
      let client = PostgresClient(configuration: configuration, maximumConnections: 1)
      defer { client.shutdown() }
      let pooledPID = try await client.withConnection { $0.backendPID }
      let listener = PostgresListener(configuration: configuration, channels: ["restart"])
      defer { listener.close() }
      #expect(try await listener.next(timeout: .milliseconds(10)).isEmpty)

      #expect(try cluster.stop())
      // While the server is down, a statement fails clearly instead of hanging.
      let down = #expect(throws: PostgresError.self) { try connection.query("SELECT 1") }
      #expect(down?.code == .connectionFailed || down?.code == .connectionLost)
      try cluster.start()

      // The same connection reconnects before its next statement.
      #expect(
        try connection.query("SELECT count(*) FROM t").single().decode(0, as: Int64.self) == 0)
      #expect(connection.reconnectCount >= 1)
      #expect(connection.backendPID != firstPID)
      // The pool's idle connection noticed too.
      let newPooledPID = try await client.withConnection {
        try $0.query("SELECT pg_backend_pid()").single().decode(0, as: Int32.self)
      }
      #expect(newPooledPID != pooledPID)
      // The listener re-LISTENs after reconnecting and receives what is sent afterwards.
      _ = try await listener.next(timeout: .milliseconds(50))
      try connection.notify("restart", payload: "after")
      var received: [PostgresNotification] = []
      for _ in 0..<50 where received.isEmpty {
        received = try await listener.next(timeout: .milliseconds(200))
      }
      #expect(received.map(\.payload) == ["after"])
      connection.close()
    }
  }

  @Test func transactionInterruptedByRestartIsReportedNotSilentlyContinued() async throws {
    try await withCluster { cluster in
      let configuration = try cluster.start()
      let connection = try PostgresConnection(configuration: configuration)
      try connection.execute("CREATE TABLE t (id int8)")
      let error = #expect(throws: PostgresError.self) {
        try connection.withTransaction { connection in
          try connection.query("INSERT INTO t VALUES (1)")
          try cluster.stop()
          try cluster.start()
          try connection.query("INSERT INTO t VALUES (2)")
        }
      }
      #expect(error?.code == .connectionLost)
      // Nothing from the interrupted transaction survived, and the connection works again.
      #expect(
        try connection.query("SELECT count(*) FROM t").single().decode(0, as: Int64.self) == 0)
      connection.close()
    }
  }

  @Test func refusesADirectoryItDidNotCreate() async throws {
    try await withCluster { cluster in
      let foreign = cluster.home.appendingPathComponent("postgres")
      try FileManager.default.createDirectory(
        at: foreign.appendingPathComponent("data"), withIntermediateDirectories: true)
      try "someone else's".write(
        to: foreign.appendingPathComponent("data/PG_VERSION"), atomically: true, encoding: .utf8)
      let error = #expect(throws: PostgresError.self) { try cluster.start() }
      #expect(error?.code == .cluster)
      #expect(
        FileManager.default.fileExists(
          atPath: foreign.appendingPathComponent("data/PG_VERSION").path))
      // A layout file naming a directory without our marker is refused as well.
      try
        #"{"clusterID":"x","root":"\#(foreign.path)","socketDirectory":"/tmp","port":5432,"superuser":"trolley"}"#
        .write(
          to: cluster.home.appendingPathComponent("postgres.json"), atomically: true,
          encoding: .utf8)
      #expect(throws: PostgresError.self) { try cluster.status() }
      #expect(throws: PostgresError.self) { try cluster.stop() }
      try FileManager.default.removeItem(at: cluster.home.appendingPathComponent("postgres.json"))
    }
  }
}
