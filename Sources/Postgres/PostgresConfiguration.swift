import CLibPQ
public import Foundation

/// Where and how to connect: a libpq connection string (a `postgresql://` URI or `key=value`
/// pairs) plus keyword overrides applied on top of it (for example another `dbname`).
///
/// An empty connection string means "libpq's defaults", which read the usual `PG*` environment
/// variables (`PGHOST`, `PGPORT`, `PGUSER`, `PGDATABASE`, `PGPASSWORD`, ...).
///
/// ```swift
/// let configuration = PostgresConfiguration.fromEnvironment()   // nil: nothing configured
///   ?? PostgresConfiguration("postgresql:///trolley?host=/tmp/sock")
/// let other = configuration.database("scratch")
/// ```
///
/// `description` never shows the password; `connectionString` and `resolvedConnectionString`
/// may contain it, so never log them.
public struct PostgresConfiguration: Sendable, Hashable, CustomStringConvertible {
  /// A libpq URI or `key=value` string; may be empty.
  public var connectionString: String
  /// libpq keywords (`dbname`, `user`, `application_name`, ...) that override the string's values.
  public var overrides: [String: String]

  /// Creates a configuration from a libpq connection string and optional keyword overrides.
  public init(_ connectionString: String = "", overrides: [String: String] = [:]) {
    self.connectionString = connectionString
    self.overrides = overrides
  }

  /// The environment variables that name a database, in the order they are consulted.
  public static let environmentVariables = ["TROLLEY_DATABASE_URL", "DATABASE_URL", "PGHOST"]

  /// The database the environment names, or nil when none is configured.
  ///
  /// `TROLLEY_DATABASE_URL` wins over `DATABASE_URL`; if neither is set but `PGHOST` is, the
  /// `PG*` variables are used (libpq reads them itself). When this returns nil, `trolley`
  /// uses its embedded cluster (see `LocalCluster`).
  /// - Parameter environment: the variables to read; defaults to the process environment.
  public static func fromEnvironment(
    _ environment: [String: String] = ProcessInfo.processInfo.environment
  ) -> PostgresConfiguration? {
    for name in ["TROLLEY_DATABASE_URL", "DATABASE_URL"] {
      if let value = environment[name], !value.isEmpty { return PostgresConfiguration(value) }
    }
    guard let host = environment["PGHOST"], !host.isEmpty else { return nil }
    // Spell the PG* variables out, so a caller-supplied environment means what it says even when
    // it differs from the process's own (libpq only reads the process environment).
    let keywords = [
      "PGHOST": "host", "PGPORT": "port", "PGUSER": "user", "PGDATABASE": "dbname",
      "PGPASSWORD": "password", "PGSSLMODE": "sslmode", "PGAPPNAME": "application_name",
      "PGCONNECT_TIMEOUT": "connect_timeout", "PGPASSFILE": "passfile",
    ]
    var overrides: [String: String] = [:]
    for (variable, keyword) in keywords {
      if let value = environment[variable], !value.isEmpty { overrides[keyword] = value }
    }
    return PostgresConfiguration("", overrides: overrides)
  }

  /// The same server and credentials, but another database.
  public func database(_ name: String) -> PostgresConfiguration {
    var copy = self
    copy.overrides["dbname"] = name
    return copy
  }

  /// The same configuration with one more keyword override.
  public func setting(_ keyword: String, to value: String) -> PostgresConfiguration {
    var copy = self
    copy.overrides[keyword] = value
    return copy
  }

  /// Every keyword that is set, after applying the overrides to the parsed connection string.
  /// Contains the password if there is one.
  /// - Throws: `PostgresError.Code.invalidConfiguration` if the connection string is malformed.
  public func resolvedParameters() throws -> [(keyword: String, value: String)] {
    var values: [(keyword: String, value: String)] = []
    if !connectionString.isEmpty {
      var errorMessage: UnsafeMutablePointer<CChar>? = nil
      guard let options = PQconninfoParse(connectionString, &errorMessage) else {
        let reason = errorMessage.map { String(cString: $0) } ?? "unknown reason"
        if let errorMessage { PQfreemem(errorMessage) }
        throw PostgresError(
          .invalidConfiguration,
          "The database connection string is malformed: "
            + reason.trimmingCharacters(in: .whitespacesAndNewlines))
      }
      defer { PQconninfoFree(options) }
      var option = options
      while let keyword = option.pointee.keyword {
        if let value = option.pointee.val {
          values.append((String(cString: keyword), String(cString: value)))
        }
        option += 1
      }
    }
    for (keyword, value) in overrides.sorted(by: { $0.key < $1.key }) {
      values.removeAll { $0.keyword == keyword }
      values.append((keyword, value))
    }
    return values
  }

  /// A `key='value'` connection string with the overrides folded in, suitable for handing to a
  /// child process (for example as `TROLLEY_DATABASE_URL`). Contains the password if any: never log it.
  public func resolvedConnectionString() throws -> String {
    try resolvedParameters().map { "\($0.keyword)=\(Self.quote($0.value))" }.joined(separator: " ")
  }

  /// The settings without the password, for logs and messages.
  public var description: String {
    guard let parameters = try? resolvedParameters() else { return "(malformed connection string)" }
    let shown = parameters.filter { !$0.keyword.contains("password") }
    if shown.isEmpty { return "(libpq defaults from the PG* environment)" }
    return shown.map { "\($0.keyword)=\(Self.quote($0.value))" }.joined(separator: " ")
  }

  /// Quotes a value for a libpq `key=value` string.
  static func quote(_ value: String) -> String {
    let escaped = value.replacingOccurrences(of: "\\", with: "\\\\")
      .replacingOccurrences(of: "'", with: "\\'")
    return "'\(escaped)'"
  }
}
