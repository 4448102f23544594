import Postgres
import PostgresTesting
import Testing

struct PostgresErrorTests {
  @Test func uniqueViolationCarriesSQLStateWithoutValues() async throws {
    try await withTestDatabase(migrated: false) { database in
      let connection = try database.connect()
      try connection.execute("CREATE TABLE users (email text PRIMARY KEY)")
      try connection.query("INSERT INTO users VALUES ($1)", ["secret@example.com"])
      let error = #expect(throws: PostgresError.self) {
        try connection.query(
          "INSERT INTO users VALUES ($1)", ["secret@example.com"], name: "userInsert")
      }
      #expect(error?.code == .server)
      #expect(error?.sqlState == PostgresError.SQLState.uniqueViolation)
      #expect(error?.statement == "userInsert")
      #expect(error?.serverMessage?.contains("users_pkey") == true)
      // The value appears only in the server's detail, which is kept out of `description`.
      #expect(error?.serverDetail?.contains("secret@example.com") == true)
      #expect(error?.description.contains("secret@example.com") == false)
      #expect(error?.description.contains("23505") == true)
      // The connection is still usable.
      #expect(
        try connection.query("SELECT count(*) FROM users").single().decode(0, as: Int64.self) == 1)
    }
  }

  @Test func syntaxErrorAndBadInputCarrySQLState() async throws {
    try await withTestDatabase(migrated: false) { database in
      let connection = try database.connect()
      let syntax = #expect(throws: PostgresError.self) { try connection.execute("SELEC 1") }
      #expect(syntax?.sqlState == PostgresError.SQLState.syntaxError)
      let missing = #expect(throws: PostgresError.self) {
        try connection.query("SELECT * FROM nowhere")
      }
      #expect(missing?.sqlState == PostgresError.SQLState.undefinedTable)
      // Data exceptions echo the input in the server message: description leaves it out.
      let badInput = #expect(throws: PostgresError.self) {
        try connection.query("SELECT $1::text::int", ["hunter2"])
      }
      #expect(badInput?.sqlState == PostgresError.SQLState.invalidTextRepresentation)
      #expect(badInput?.serverMessage?.contains("hunter2") == true)
      #expect(badInput?.description.contains("hunter2") == false)
    }
  }

  @Test func connectionFailureNamesServerButNotPassword() throws {
    let configuration = PostgresConfiguration(
      "postgresql://someone:pa55word@/nodb?host=/nonexistent-socket-dir&port=1")
    let error = #expect(throws: PostgresError.self) {
      try PostgresConnection(configuration: configuration)
    }
    #expect(error?.code == .connectionFailed)
    #expect(error?.description.contains("pa55word") == false)
    #expect(error?.description.contains("/nonexistent-socket-dir") == true)
    #expect(!configuration.description.contains("pa55word"))
  }

  @Test func environmentPrecedence() throws {
    #expect(PostgresConfiguration.fromEnvironment([:]) == nil)
    #expect(PostgresConfiguration.fromEnvironment(["PGPORT": "5"]) == nil)
    let both = PostgresConfiguration.fromEnvironment([
      "TROLLEY_DATABASE_URL": "postgresql:///a", "DATABASE_URL": "postgresql:///b",
    ])
    #expect(both?.connectionString == "postgresql:///a")
    #expect(
      PostgresConfiguration.fromEnvironment(["DATABASE_URL": "postgresql:///b"])?.connectionString
        == "postgresql:///b")
    let pg = try #require(
      PostgresConfiguration.fromEnvironment(["PGHOST": "/tmp/x", "PGPORT": "6543", "PGUSER": "u"]))
    let parameters = Dictionary(
      uniqueKeysWithValues: try pg.resolvedParameters().map { ($0.keyword, $0.value) })
    #expect(parameters == ["host": "/tmp/x", "port": "6543", "user": "u"])
    let uri = PostgresConfiguration("postgresql://u:p@/db?host=/s").database("other")
    let resolved = Dictionary(
      uniqueKeysWithValues: try uri.resolvedParameters().map { ($0.keyword, $0.value) })
    #expect(resolved["dbname"] == "other")
    #expect(resolved["password"] == "p")
    #expect(!uri.description.contains("p@") && !uri.description.contains("'p'"))
    #expect(throws: PostgresError.self) {
      try PostgresConfiguration("postgresql://[bad").resolvedParameters()
    }
  }
}
