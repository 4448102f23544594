import Postgres
import PostgresTesting
import Testing

struct PostgresCopyTests {
  static let rowCount = 100_000

  @Test func copiesOneHundredThousandRowsBothWays() async throws {
    try await withTestDatabase(migrated: false) { database in
      let connection = try database.connect()
      try connection.execute("CREATE TABLE items (id int8 PRIMARY KEY, name text, note text)")
      let copied = try connection.copyFrom("COPY items (id, name, note) FROM STDIN") { writer in
        for id in 0..<Self.rowCount {
          // Exercise escaping and NULLs on some rows.
          var note: String? = "n" + String(id)
          if id % 7 == 0 { note = "tab\there\nnewline\\slash" }
          if id % 10 == 0 { note = nil }
          try writer.writeRow([String(id), "item \(id)", note])
        }
        #expect(writer.rowsWritten == Self.rowCount)
      }
      #expect(copied == Self.rowCount)
      let check = try connection.query(
        "SELECT count(*), sum(id), count(*) FILTER (WHERE note IS NULL), count(*) FILTER (WHERE note = $1) FROM items",
        ["tab\there\nnewline\\slash"]
      ).single()
      let (count, sum, nulls, escaped) = try check.decode((Int64, String, Int64, Int64).self)
      #expect(count == Int64(Self.rowCount))
      let expectedSum: Int = (0..<Self.rowCount).reduce(0, +)
      #expect(sum == String(expectedSum))
      #expect(nulls == Int64(Self.rowCount / 10))
      let expectedEscaped = (0..<Self.rowCount).filter { $0 % 7 == 0 && $0 % 10 != 0 }.count
      #expect(escaped == Int64(expectedEscaped))

      var lines = 0
      var bytes = 0
      var largestChunk = 0
      var idSum = 0
      let sent = try connection.copyTo("COPY (SELECT id, name FROM items ORDER BY id) TO STDOUT") {
        chunk in
        lines += chunk.filter { $0 == UInt8(ascii: "\n") }.count
        bytes += chunk.count
        largestChunk = max(largestChunk, chunk.count)
        if let tab = chunk.firstIndex(of: UInt8(ascii: "\t")) {
          idSum += Int(String(decoding: chunk[..<tab], as: UTF8.self)) ?? 0
        }
      }
      #expect(sent == Self.rowCount)
      #expect(lines == Self.rowCount)
      #expect(idSum == expectedSum)
      // Streamed: chunks are rows, never the whole table.
      #expect(largestChunk < 100)
      #expect(bytes > 1_000_000)
    }
  }

  @Test func badRowFailsWithSQLStateAndInsertsNothing() async throws {
    try await withTestDatabase(migrated: false) { database in
      let connection = try database.connect()
      try connection.execute("CREATE TABLE items (id int8 PRIMARY KEY)")
      let error = #expect(throws: PostgresError.self) {
        try connection.copyFrom("COPY items (id) FROM STDIN", name: "itemsCopy") { writer in
          try writer.writeRow(["1"])
          try writer.writeRow(["not a number"])
        }
      }
      #expect(error?.sqlState == PostgresError.SQLState.invalidTextRepresentation)
      #expect(error?.statement == "itemsCopy")
      #expect(
        try connection.query("SELECT count(*) FROM items").single().decode(0, as: Int64.self) == 0)
    }
  }

  @Test func throwingProducerOrConsumerAbortsAndLeavesConnectionUsable() async throws {
    struct Stop: Error {}
    try await withTestDatabase(migrated: false) { database in
      let connection = try database.connect()
      try connection.execute("CREATE TABLE items (id int8)")
      #expect(throws: Stop.self) {
        try connection.copyFrom("COPY items FROM STDIN") { writer in
          for id in 0..<50_000 { try writer.writeRow([String(id)]) }
          throw Stop()
        }
      }
      #expect(
        try connection.query("SELECT count(*) FROM items").single().decode(0, as: Int64.self) == 0)
      var seen = 0
      #expect(throws: Stop.self) {
        try connection.copyTo("COPY (SELECT generate_series(1, 1000000)) TO STDOUT") { _ in
          seen += 1
          if seen == 10 { throw Stop() }
        }
      }
      #expect(seen == 10)
      #expect(try connection.query("SELECT 41 + 1").single().decode(0, as: Int.self) == 42)
    }
  }
}
