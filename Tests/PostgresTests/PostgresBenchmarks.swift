import Foundation
import Postgres
import PostgresTesting
import Testing
import TrolleyBasics

/// Throughput of the libpq layer, printed for docs/benchmarks.md. Opt-in (it measures, it does
/// not assert speed): `TROLLEY_POSTGRES_BENCH=1 swift test --filter PostgresBenchmarks`.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["TROLLEY_POSTGRES_BENCH"] == "1"))
struct PostgresBenchmarks {
  func measure(_ label: String, count: Int, unit: String, _ body: () throws -> Void) rethrows {
    let clock = ContinuousClock()
    let elapsed = try clock.measure(body)
    let seconds = elapsed.seconds
    print(
      String(
        format: "bench | %@ | %d %@ in %.3f s | %.0f %@/s", label, count, unit, seconds,
        Double(count) / seconds, unit))
  }

  @Test func throughput() async throws {
    try await withTestDatabase(migrated: false) { database in
      let connection = try database.connect()
      try connection.execute("CREATE UNLOGGED TABLE items (id int8, name text, score float8)")
      let rows = 1_000_000
      try measure("COPY FROM (3 columns, text format)", count: rows, unit: "rows") {
        try connection.copyFrom("COPY items FROM STDIN") { writer in
          for id in 0..<rows { try writer.writeRow([String(id), "item \(id)", "0.5"]) }
        }
      }
      var received = 0
      try measure("COPY TO (3 columns, text format)", count: rows, unit: "rows") {
        try connection.copyTo("COPY items TO STDOUT") { _ in received += 1 }
      }
      #expect(received == rows)
      let queries = 20_000
      try measure("prepared single-row SELECT, 1 connection", count: queries, unit: "queries") {
        for id in 0..<queries {
          _ = try connection.query("SELECT $1::int8 + 1", [Int64(id)], name: "plusOne").single()
            .decode(0, as: Int64.self)
        }
      }
      try measure("unprepared single-row SELECT, 1 connection", count: queries, unit: "queries") {
        for id in 0..<queries {
          _ = try connection.query("SELECT $1::int8 + 1", [Int64(id)]).single().decode(
            0, as: Int64.self)
        }
      }
      let decoded = try connection.query("SELECT id, name, score FROM items LIMIT 200000")
      try measure("decode (Int64, String, Double) rows", count: decoded.count, unit: "rows") {
        for row in decoded { _ = try row.decode((Int64, String, Double).self) }
      }
      let client = PostgresClient(configuration: database.configuration, maximumConnections: 4)
      defer { client.shutdown() }
      let clock = ContinuousClock()
      let tasks = 4
      let perTask = 5_000
      let elapsed = try await clock.measure {
        try await withThrowingTaskGroup(of: Void.self) { group in
          for _ in 0..<tasks {
            group.addTask {
              for id in 0..<perTask {
                _ = try await client.query("SELECT $1::int8", [Int64(id)], name: "echo")
              }
            }
          }
          try await group.waitForAll()
        }
      }
      let seconds = elapsed.seconds
      print(
        String(
          format:
            "bench | PostgresClient.query from %d tasks, pool of 4 | %d queries in %.3f s | %.0f queries/s",
          tasks, tasks * perTask, seconds, Double(tasks * perTask) / seconds))
    }
  }
}
