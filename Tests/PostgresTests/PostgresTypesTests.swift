import Foundation
import Postgres
import PostgresTesting
import Testing

/// Every supported type goes to the server as a parameter and comes back, as itself and as NULL.
struct PostgresTypesTests {
  /// Binds `value` as $1, reads it back through `::cast` and checks equality; then does the same
  /// for a typed NULL.
  func roundTrip<T: PostgresCodable & Equatable>(
    _ connection: PostgresConnection, _ value: T, cast: String,
    sourceLocation: SourceLocation = #_sourceLocation
  ) throws {
    let row = try connection.query("SELECT $1::\(cast), $2::\(cast)", [value, T?.none]).single()
    #expect(try row.decode(0, as: T.self) == value, sourceLocation: sourceLocation)
    #expect(try row.decode(1, as: T?.self) == nil, sourceLocation: sourceLocation)
    #expect(row.isNull(1), sourceLocation: sourceLocation)
    #expect(throws: PostgresError.self, sourceLocation: sourceLocation) {
      try row.decode(1, as: T.self)
    }
  }

  @Test func scalarsRoundTrip() async throws {
    try await withTestDatabase(migrated: false) { database in
      let connection = try database.connect()
      for value in [Int64.min, -1, 0, 42, Int64.max] {
        try roundTrip(connection, value, cast: "int8")
      }
      for value in [Int32.min, 0, Int32.max] { try roundTrip(connection, value, cast: "int4") }
      for value in [Int16.min, 7, Int16.max] { try roundTrip(connection, value, cast: "int2") }
      try roundTrip(connection, Int(123_456_789_012), cast: "int8")
      for value in [0.0, -1.5, Double.pi, Double.greatestFiniteMagnitude, Double.infinity] {
        try roundTrip(connection, value, cast: "float8")
      }
      for value in [Float(0), Float(1.25), -Float.pi] {
        try roundTrip(connection, value, cast: "float4")
      }
      try roundTrip(connection, true, cast: "bool")
      try roundTrip(connection, false, cast: "bool")
      for value in ["", "hello", "tab\there \"quoted\" 'single' \\ back", "ünïcödé 🚋 漢字"] {
        try roundTrip(connection, value, cast: "text")
      }
      try roundTrip(connection, [UInt8](), cast: "bytea")
      try roundTrip(connection, [UInt8](0...255), cast: "bytea")
      try roundTrip(connection, UUID(), cast: "uuid")
    }
  }

  @Test func nanSurvives() async throws {
    try await withTestDatabase(migrated: false) { database in
      let value = try database.connect().query("SELECT $1::float8", [Double.nan]).single().decode(
        0, as: Double.self)
      #expect(value.isNaN)
    }
  }

  @Test func timestampsKeepMicroseconds() async throws {
    try await withTestDatabase(migrated: false) { database in
      let connection = try database.connect()
      for seconds in [0.0, 1_700_000_000.123456, -1_000_000.5, 946_684_800] {
        let date = Date(timeIntervalSince1970: seconds)
        let back = try connection.query("SELECT $1::timestamptz", [date]).single().decode(
          0, as: Date.self)
        #expect(abs(back.timeIntervalSince1970 - seconds) < 0.000_001)
      }
      // The server's own reading of the value agrees with ours.
      let epoch = try connection.query(
        "SELECT extract(epoch FROM $1::timestamptz)::float8",
        [Date(timeIntervalSince1970: 1_234_567_890.25)]
      ).single().decode(0, as: Double.self)
      #expect(epoch == 1_234_567_890.25)
      let infinite = try connection.query(
        "SELECT 'infinity'::timestamptz, '-infinity'::timestamptz"
      ).single()
      #expect(try infinite.decode((Date, Date).self) == (Date.distantFuture, Date.distantPast))
      let dated = try connection.query("SELECT '2000-01-02'::date").single().decode(
        0, as: Date.self)
      #expect(dated == Date(timeIntervalSince1970: 946_684_800 + 86_400))
      try roundTrip(connection, Date(timeIntervalSince1970: 1_600_000_000.5), cast: "timestamptz")
    }
  }

  @Test func jsonbRoundTrips() async throws {
    struct Payload: Codable, Equatable {
      var image: String
      var sizes: [Int]
    }
    try await withTestDatabase(migrated: false) { database in
      let connection = try database.connect()
      let payload = Payload(image: "a/b.jpg", sizes: [336, 490])
      let row = try connection.query(
        "SELECT $1::jsonb, $1::jsonb ->> 'image', $2::jsonb, $3::json",
        [
          try PostgresJSONB(encoding: payload), PostgresJSONB?.none,
          PostgresJSONB(text: #"{"k": [1, 2]}"#),
        ]
      ).single()
      #expect(try row.decode(0, as: PostgresJSONB.self).decode(Payload.self) == payload)
      #expect(try row.decode(1, as: String.self) == "a/b.jpg")
      #expect(try row.decode(2, as: PostgresJSONB?.self) == nil)
      #expect(try row.decode(3, as: PostgresJSONB.self).text == #"{"k": [1, 2]}"#)
      // jsonb normalizes the text; String decoding shows the server's form.
      let text = try connection.query("SELECT '{\"b\": 1,  \"a\": 2}'::jsonb").single().decode(
        0, as: String.self)
      #expect(text == #"{"a": 2, "b": 1}"#)
      // Invalid JSON is rejected by the server, with its SQLSTATE.
      let error = #expect(throws: PostgresError.self) {
        try connection.query("SELECT $1::jsonb", [PostgresJSONB(text: "{nope")])
      }
      #expect(error?.sqlState == PostgresError.SQLState.invalidTextRepresentation)
    }
  }

  @Test func arraysRoundTrip() async throws {
    try await withTestDatabase(migrated: false) { database in
      let connection = try database.connect()
      try roundTrip(connection, [Int64](), cast: "int8[]")
      try roundTrip(connection, [Int64.min, 0, 5, Int64.max], cast: "int8[]")
      try roundTrip(connection, [Int32(1), 2, 3], cast: "int4[]")
      try roundTrip(
        connection, ["a", "", "with,comma", "with \"quote\"", "NULL", "ü"], cast: "text[]")
      try roundTrip(connection, [UUID(), UUID(), UUID()], cast: "uuid[]")
      try roundTrip(connection, [1.5, -2.25], cast: "float8[]")
      try roundTrip(connection, [true, false], cast: "bool[]")
      try roundTrip(connection, [Date(timeIntervalSince1970: 12.5)], cast: "timestamptz[]")
      try roundTrip(connection, [Int64?.some(1), nil, 3], cast: "int8[]")
      try roundTrip(connection, [String?.none, "x"], cast: "text[]")
      // NULL elements need an optional element type.
      let row = try connection.query("SELECT ARRAY[1, NULL]::int8[]").single()
      #expect(throws: PostgresError.self) { try row.decode(0, as: [Int64].self) }
      // The server sees a real array: ANY and array functions work on the parameter.
      let ids: [Int64] = [3, 1, 2]
      let summary = try connection.query(
        "SELECT cardinality($1::int8[]), 2 = ANY($1), (SELECT array_agg(x ORDER BY x) FROM unnest($1) x)",
        [ids]
      ).single()
      let (cardinality, contains, sorted) = try summary.decode((Int32, Bool, [Int64]).self)
      #expect(cardinality == 3)
      #expect(contains)
      #expect(sorted == [1, 2, 3])
    }
  }

  @Test func widerAndTextualDecodings() async throws {
    try await withTestDatabase(migrated: false) { database in
      let connection = try database.connect()
      let row = try connection.query(
        "SELECT 7::int2, 70000::int4, 12345678901234.5678::numeric, -0.00012::numeric, 'b'::varchar, 'name'::name, 1.5::float4"
      ).single()
      #expect(try row.decode(0, as: Int64.self) == 7)
      #expect(try row.decode(1, as: Int.self) == 70000)
      #expect(throws: PostgresError.self) { try row.decode(1, as: Int16.self) }  // does not fit
      #expect(try row.decode(2, as: String.self) == "12345678901234.5678")
      #expect(try row.decode(3, as: String.self) == "-0.00012")
      #expect(try row.decode(3, as: Double.self) == -0.00012)
      #expect(try row.decode(4, as: String.self) == "b")
      #expect(try row.decode(5, as: String.self) == "name")
      #expect(try row.decode(6, as: Double.self) == 1.5)
      let mismatch = #expect(throws: PostgresError.self) { try row.decode(0, as: String.self) }
      #expect(mismatch?.code == .typeMismatch)
      // Enums made by migrations decode as their label and bind through a cast.
      try connection.execute("CREATE TYPE mood AS ENUM ('calm', 'busy')")
      let mood = try connection.query("SELECT $1::mood", ["busy"]).single().decode(
        0, as: String.self)
      #expect(mood == "busy")
      let named = try connection.query("SELECT 1::int8 AS id, 'x' AS label").single()
      #expect(try named.decode("label", as: String.self) == "x")
      #expect(try named.decode("id", as: Int64.self) == 1)
      #expect(throws: PostgresError.self) { try named.decode("missing", as: Int64.self) }
    }
  }

  @Test func textWithNULIsRejectedBeforeSending() async throws {
    try await withTestDatabase(migrated: false) { database in
      let error = #expect(throws: PostgresError.self) {
        try database.connect().query("SELECT $1::text", ["a\u{0}b"], name: "nul")
      }
      #expect(error?.code == .encoding)
      #expect(error?.statement == "nul")
    }
  }
}
