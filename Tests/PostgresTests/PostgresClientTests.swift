import Postgres
import PostgresTesting
import Testing

struct PostgresClientTests {
  @Test func manyConcurrentCallersShareAFewConnections() async throws {
    try await withTestDatabase(migrated: false) { database in
      let client = PostgresClient(configuration: database.configuration, maximumConnections: 3)
      defer { client.shutdown() }
      try await client.execute("CREATE TABLE hits (id int8)")
      let pids = try await withThrowingTaskGroup(of: Int32.self) { group in
        for index in 0..<40 {
          group.addTask {
            try await client.withTransaction { connection in
              try connection.query("INSERT INTO hits VALUES ($1)", [Int64(index)])
              // Hold the connection a little so callers have to queue.
              try connection.query("SELECT pg_sleep(0.01)")
              return connection.backendPID
            }
          }
        }
        var pids: Set<Int32> = []
        for try await pid in group { pids.insert(pid) }
        return pids
      }
      #expect(pids.count <= 3)
      let count = try await client.query("SELECT count(*) FROM hits").single().decode(
        0, as: Int64.self)
      #expect(count == 40)
    }
  }

  @Test func leftOpenTransactionIsRolledBackAndShutdownRefuses() async throws {
    try await withTestDatabase(migrated: false) { database in
      let client = PostgresClient(configuration: database.configuration, maximumConnections: 1)
      try await client.execute("CREATE TABLE t (id int8)")
      try await client.withConnection { connection in
        try connection.execute("BEGIN")
        try connection.query("INSERT INTO t VALUES (1)")
      }
      let count = try await client.query("SELECT count(*) FROM t").single().decode(
        0, as: Int64.self)
      #expect(count == 0)
      client.shutdown()
      let error = await #expect(throws: PostgresError.self) { try await client.query("SELECT 1") }
      #expect(error?.code == .shutdown)
    }
  }
}
