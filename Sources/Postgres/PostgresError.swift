/// An error from the Postgres module: a failed connection, a statement the server rejected, a
/// value that could not be encoded or decoded, or a local cluster that would not start.
///
/// Callers branch on `code` (and, for server errors, on `sqlState`), never on message text.
/// `description` is safe to log: it never contains parameter values, connection strings or
/// passwords. The server's `detail` (which can quote row values, as in "Key (email)=(...)
/// already exists") is only in `debugDescription`.
///
/// ```swift
/// do { try connection.query("INSERT INTO users (email) VALUES ($1)", [email]) }
/// catch let error as PostgresError where error.sqlState == PostgresError.SQLState.uniqueViolation { ... }
/// ```
public struct PostgresError: Error, Hashable, Sendable, CustomStringConvertible,
  CustomDebugStringConvertible
{
  /// What kind of failure this is.
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    private enum Value: String, Hashable, Sendable {
      case connectionFailed, connectionLost, server, unexpectedNull, typeMismatch, decoding
      case encoding, copyFailed, invalidConfiguration, cluster, migration, shutdown
    }
    private let value: Value
    private init(_ value: Value) { self.value = value }

    /// Could not open (or re-open) a connection: server down, bad credentials, bad socket path.
    public static let connectionFailed = Code(.connectionFailed)
    /// The connection broke while a statement was in flight; whether it ran is unknown.
    public static let connectionLost = Code(.connectionLost)
    /// The server rejected a statement; `sqlState` says why.
    public static let server = Code(.server)
    /// A column or array element was NULL but a non-optional Swift type was asked for.
    public static let unexpectedNull = Code(.unexpectedNull)
    /// A column's PostgreSQL type cannot be decoded as the Swift type asked for.
    public static let typeMismatch = Code(.typeMismatch)
    /// A value's bytes were malformed for its type (or out of range for the Swift type).
    public static let decoding = Code(.decoding)
    /// A Swift value could not be encoded as a parameter.
    public static let encoding = Code(.encoding)
    /// A COPY could not be started, fed or finished.
    public static let copyFailed = Code(.copyFailed)
    /// The connection settings are malformed.
    public static let invalidConfiguration = Code(.invalidConfiguration)
    /// A local (embedded) cluster could not be created, started, stopped or found.
    public static let cluster = Code(.cluster)
    /// A migration file is malformed, was changed after it was applied, or failed to apply.
    public static let migration = Code(.migration)
    /// The client or listener was shut down.
    public static let shutdown = Code(.shutdown)

    public var description: String { value.rawValue }
  }

  /// Well-known SQLSTATE codes (see the PostgreSQL manual, appendix A), for branching on `sqlState`.
  public enum SQLState {
    public static let uniqueViolation = "23505"
    public static let foreignKeyViolation = "23503"
    public static let notNullViolation = "23502"
    public static let checkViolation = "23514"
    public static let exclusionViolation = "23P01"
    public static let invalidTextRepresentation = "22P02"
    public static let serializationFailure = "40001"
    public static let deadlockDetected = "40P01"
    public static let lockNotAvailable = "55P03"
    public static let queryCanceled = "57014"
    public static let adminShutdown = "57P01"
    public static let syntaxError = "42601"
    public static let undefinedTable = "42P01"
    public static let undefinedColumn = "42703"
    public static let duplicateDatabase = "42P04"
    public static let invalidCatalogName = "3D000"
  }

  public let code: Code
  /// The five-character SQLSTATE the server reported, if the server reported one.
  public let sqlState: String?
  /// The server's primary message ("duplicate key value violates unique constraint ..."), if any.
  public let serverMessage: String?
  /// The server's detail line; may quote row values, so it is only in `debugDescription`.
  public let serverDetail: String?
  /// The server's hint, if any.
  public let serverHint: String?
  /// The name the caller gave the statement (`query(_:_:name:)`), for telling which one failed.
  public let statement: String?
  /// What went wrong and what to do, written by this module; never holds values or passwords.
  public let message: String
  public let file: String
  public let line: Int

  public init(
    _ code: Code, _ message: String, sqlState: String? = nil, serverMessage: String? = nil,
    serverDetail: String? = nil, serverHint: String? = nil, statement: String? = nil,
    file: String = #fileID, line: Int = #line
  ) {
    self.code = code
    self.message = message
    self.sqlState = sqlState
    self.serverMessage = serverMessage
    self.serverDetail = serverDetail
    self.serverHint = serverHint
    self.statement = statement
    self.file = file
    self.line = line
  }

  public var description: String {
    var text = message
    if let statement { text += " [statement \(statement)]" }
    if let sqlState {
      text += " (SQLSTATE \(sqlState))"
      // Class 22 (data exception) messages echo the offending input value; keep them out of logs.
      if let serverMessage, !sqlState.hasPrefix("22") { text += ": \(serverMessage)" }
    } else if let serverMessage {
      text += ": \(serverMessage)"
    }
    return text
  }

  public var debugDescription: String {
    var text = "PostgresError(\(code), \(file):\(line)) \(message)"
    if let statement { text += "\n  statement: \(statement)" }
    if let sqlState { text += "\n  sqlstate: \(sqlState)" }
    if let serverMessage { text += "\n  message: \(serverMessage)" }
    if let serverDetail { text += "\n  detail: \(serverDetail)" }
    if let serverHint { text += "\n  hint: \(serverHint)" }
    return text
  }

  /// True for failures no retry can fix: the server refused the login (bad password, unknown
  /// role or database, no pg_hba.conf entry), or the schema is missing or not accessible
  /// (undefined table, function, type or column; insufficient privilege). A worker stops on
  /// these with a message instead of retrying for ever; anything else (a server that is down,
  /// a lost connection, a serialization failure) may pass.
  public var isPermanent: Bool {
    switch code {
    case .connectionFailed:
      // libpq gives a failed login no SQLSTATE; the server's FATAL message is all there is.
      let text = serverMessage ?? ""
      return [
        "password authentication failed", "authentication failed for user", "does not exist",
        "no pg_hba.conf entry", "permission denied for database", "SSL required",
      ].contains { text.contains($0) }
    case .server:
      guard let sqlState else { return false }
      return sqlState.hasPrefix("28") || sqlState.hasPrefix("3D")
        || ["42P01", "42883", "42704", "42703", "42501"].contains(sqlState)
    case .invalidConfiguration:
      return true
    default:
      return false
    }
  }

  public static func == (lhs: PostgresError, rhs: PostgresError) -> Bool { lhs.code == rhs.code }
  public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}
