import Postgres
import PostgresTesting
import Testing

struct PostgresTransactionTests {
  struct Boom: Error {}

  func count(_ connection: PostgresConnection) throws -> Int64 {
    try connection.query("SELECT count(*) FROM t").single().decode(0, as: Int64.self)
  }

  @Test func commitsOnReturnAndRollsBackOnThrow() async throws {
    try await withTestDatabase(migrated: false) { database in
      let connection = try database.connect()
      try connection.execute("CREATE TABLE t (id int8 PRIMARY KEY)")
      let value = try connection.withTransaction { connection in
        try connection.query("INSERT INTO t VALUES ($1)", [Int64(1)])
        return "done"
      }
      #expect(value == "done")
      #expect(throws: Boom.self) {
        try connection.withTransaction { connection in
          try connection.query("INSERT INTO t VALUES ($1)", [Int64(2)])
          throw Boom()
        }
      }
      #expect(try count(connection) == 1)
      #expect(!connection.isInTransaction)
    }
  }

  @Test func nestedTransactionsUseSavepoints() async throws {
    try await withTestDatabase(migrated: false) { database in
      let connection = try database.connect()
      try connection.execute("CREATE TABLE t (id int8 PRIMARY KEY)")
      try connection.withTransaction(isolation: .serializable) { connection in
        try connection.query("INSERT INTO t VALUES (1)")
        // The inner failure (a duplicate key) rolls back only the inner part.
        #expect(throws: PostgresError.self) {
          try connection.withTransaction { connection in
            try connection.query("INSERT INTO t VALUES (2)")
            try connection.query("INSERT INTO t VALUES (1)")
          }
        }
        try connection.query("INSERT INTO t VALUES (3)")
      }
      let ids = try connection.query("SELECT array_agg(id ORDER BY id) FROM t").single().decode(
        0, as: [Int64].self)
      #expect(ids == [1, 3])
    }
  }

  @Test func swallowedFailureMakesCommitThrow() async throws {
    try await withTestDatabase(migrated: false) { database in
      let connection = try database.connect()
      try connection.execute("CREATE TABLE t (id int8 PRIMARY KEY)")
      let error = #expect(throws: PostgresError.self) {
        try connection.withTransaction { connection in
          try connection.query("INSERT INTO t VALUES (1)")
          _ = try? connection.query("SELECT 1/0")
        }
      }
      #expect(error?.sqlState == "25P02")
      #expect(try count(connection) == 0)
    }
  }
}
