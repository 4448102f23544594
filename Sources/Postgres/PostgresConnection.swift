import CLibPQ
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// One blocking libpq connection. Every call blocks the calling thread until the server answers,
/// so from Swift concurrency use `PostgresClient` (a pool that runs each connection on its own
/// thread) instead of calling this on the cooperative pool. Not thread-safe: one caller at a time.
///
/// ```swift
/// let connection = try PostgresConnection(configuration: configuration)
/// try connection.execute("CREATE TABLE t (id bigint PRIMARY KEY, tags text[])")  // simple protocol
/// try connection.query("INSERT INTO t VALUES ($1, $2)", [Int64(1), ["a", "b"]])
/// let tags = try connection.query("SELECT tags FROM t WHERE id = $1", [Int64(1)], name: "tagsByID")
///   .single().decode(0, as: [String].self)
/// try connection.withTransaction { connection in ... }   // rolls back if the closure throws
/// ```
///
/// Reconnection: before each statement the connection checks (without a round trip) whether the
/// server has gone away, and if so reconnects (`PQreset`), re-issues its LISTENs and forgets its
/// prepared statements. It never re-runs a statement: one that fails in flight throws
/// `.connectionLost`, and one issued inside a transaction whose connection died throws
/// `.connectionLost` too (the server rolled the transaction back). Session state set with `SET`
/// does not survive a reconnect.
public final class PostgresConnection {
  /// The settings this connection was opened with.
  public let configuration: PostgresConfiguration
  let handle: OpaquePointer
  private var preparedStatements: [String: String] = [:]
  var listenedChannels: [String] = []
  var transactionDepth = 0
  /// The transaction status after the last statement that kept the connection alive.
  var lastTransactionStatus = PQTRANS_IDLE
  private var isClosed = false
  /// How many times this connection has reconnected after losing the server.
  public private(set) var reconnectCount = 0

  /// Opens a connection.
  /// - Throws: `PostgresError.Code.connectionFailed` (the message names the server, never the password).
  public init(configuration: PostgresConfiguration) throws {
    self.configuration = configuration
    self.handle = try Self.connect(configuration)
  }

  deinit { if !isClosed { PQfinish(handle) } }

  private static func connect(_ configuration: PostgresConfiguration) throws -> OpaquePointer {
    var keywords: [String] = []
    var values: [String] = []
    // Defaults first, so the connection string, the overrides and PG* variables all win: give up
    // on an unreachable server after 10 s, and notice a vanished TCP peer within about a minute
    // (a LISTEN connection otherwise waits on a dead socket for hours).
    let environment = ProcessInfo.processInfo.environment
    if environment["PGCONNECT_TIMEOUT"] == nil {
      keywords.append("connect_timeout")
      values.append("10")
    }
    keywords += ["keepalives_idle", "keepalives_interval", "keepalives_count"]
    values += ["30", "10", "3"]
    if !configuration.connectionString.isEmpty {
      // With expand_dbname, the first dbname may be a whole URI or key=value string.
      keywords.append("dbname")
      values.append(configuration.connectionString)
    }
    for (keyword, value) in configuration.overrides.sorted(by: { $0.key < $1.key }) {
      keywords.append(keyword)
      values.append(value)
    }
    keywords += ["client_encoding", "fallback_application_name"]
    values += ["UTF8", "trolley"]
    let handle = withCStringArray(keywords) { keywordPointers in
      withCStringArray(values) { valuePointers in
        PQconnectdbParams(keywordPointers, valuePointers, 1)
      }
    }
    guard let handle else {
      throw PostgresError(.connectionFailed, "libpq could not allocate a connection")
    }
    guard PQstatus(handle) == CONNECTION_OK else {
      let reason = Self.errorMessage(handle)
      PQfinish(handle)
      throw PostgresError(
        .connectionFailed, "Could not connect to PostgreSQL (\(configuration))",
        serverMessage: reason)
    }
    // Server NOTICEs ("relation already exists, skipping") would otherwise go to stderr.
    PQsetNoticeProcessor(handle, { _, _ in }, nil)
    return handle
  }

  static func errorMessage(_ handle: OpaquePointer) -> String {
    guard let text = PQerrorMessage(handle) else { return "" }
    return String(cString: text).trimmingWhitespace()
  }

  /// Whether libpq currently believes the connection is usable (it only notices a dead server
  /// when it next reads from the socket).
  public var isConnected: Bool { !isClosed && PQstatus(handle) == CONNECTION_OK }

  /// The server process serving this connection (`pg_backend_pid()`); changes on reconnect.
  public var backendPID: Int32 { PQbackendPID(handle) }

  /// The server's version as an integer (150018 for 15.18).
  public var serverVersion: Int { Int(PQserverVersion(handle)) }

  /// Whether a transaction is open (started with `withTransaction` or a raw `BEGIN`).
  public var isInTransaction: Bool {
    let status = PQtransactionStatus(handle)
    return status == PQTRANS_INTRANS || status == PQTRANS_INERROR
  }

  /// Closes the connection; later calls throw `.shutdown`.
  public func close() {
    guard !isClosed else { return }
    isClosed = true
    PQfinish(handle)
  }

  // MARK: - Statements

  /// Runs one statement with its parameters bound as `$1`, `$2`, ... (never spliced into the SQL)
  /// and returns its rows, all received, in binary format.
  ///
  /// - Parameters:
  ///   - sql: one SQL statement, with `$n` placeholders.
  ///   - bindings: the values for the placeholders, in order.
  ///   - name: a name for the statement (such as `jobClaim`). When given, the statement is
  ///     prepared once per connection and re-used; the name also appears in errors.
  /// - Returns: the rows (empty for statements that return none; see `affectedRowCount`).
  /// - Throws: `PostgresError` (`.server` with `sqlState`, `.connectionLost`, `.connectionFailed`,
  ///   `.encoding`).
  @discardableResult
  public func query(_ sql: String, _ bindings: PostgresBindings = [], name: String? = nil) throws
    -> PostgresRows
  {
    try prepareForStatement()
    let encoded: PostgresBindings.Encoded
    do { encoded = try bindings.encoded() } catch let error as PostgresError {
      throw error.inStatement(name)
    }
    let count = Int32(encoded.types.count)
    let lengths = encoded.ranges.map { Int32($0?.length ?? 0) }
    let formats = [Int32](repeating: 1, count: encoded.types.count)
    var serverName: String? = nil
    if let name {
      serverName = try preparedStatement(named: name, sql: sql, types: encoded.types)
    }
    let result: OpaquePointer? = encoded.buffer.withUnsafeBytes { buffer in
      guard let base = buffer.baseAddress else { return nil }
      let values: [UnsafePointer<CChar>?] = encoded.ranges.map { range in
        range.map { (base + $0.offset).assumingMemoryBound(to: CChar.self) }
      }
      if let serverName {
        return PQexecPrepared(handle, serverName, count, values, lengths, formats, 1)
      }
      return PQexecParams(handle, sql, count, encoded.types, values, lengths, formats, 1)
    }
    return PostgresRows(result: try checked(result, statement: name), statement: name)
  }

  /// Runs SQL text with the simple query protocol: several statements separated by `;` are
  /// allowed (migrations), parameters are not. Never build this text from user values.
  /// - Throws: `PostgresError` (`.server` with `sqlState`, `.connectionLost`, `.connectionFailed`).
  public func execute(_ sql: String, name: String? = nil) throws {
    try prepareForStatement()
    PQclear(try checked(PQexec(handle, sql), statement: name))
  }

  /// Runs simple-protocol SQL without first checking the connection or reconnecting (used for
  /// COMMIT and ROLLBACK, which must never land on a fresh session).
  func executeWithoutReconnecting(_ sql: String) throws -> PostgresRows {
    guard !isClosed else { throw PostgresError(.shutdown, "The connection was closed") }
    return PostgresRows(result: try checked(PQexec(handle, sql), statement: nil), statement: nil)
  }

  private func preparedStatement(named name: String, sql: String, types: [UInt32]) throws -> String
  {
    // Keyed by text and parameter types: one name may be used with differently typed NULLs.
    let key = "\(sql)\u{0}\(types.map(String.init).joined(separator: ","))"
    if let existing = preparedStatements[key] { return existing }
    let serverName = "trolley_\(preparedStatements.count)"
    let result = PQprepare(handle, serverName, sql, Int32(types.count), types)
    PQclear(try checked(result, statement: name))
    preparedStatements[key] = serverName
    return serverName
  }

  // MARK: - Results and errors

  /// Returns the result if its status is one of `accepted`, else clears it and throws.
  func checked(
    _ result: OpaquePointer?, statement: String?,
    accepted: [ExecStatusType] = [PGRES_COMMAND_OK, PGRES_TUPLES_OK]
  ) throws -> OpaquePointer {
    let status = PQtransactionStatus(handle)
    if status != PQTRANS_UNKNOWN { lastTransactionStatus = status }
    guard let result else {
      throw connectionError(statement: statement, serverMessage: Self.errorMessage(handle))
    }
    if accepted.contains(PQresultStatus(result)) { return result }
    defer { PQclear(result) }
    return try { throw error(from: result, statement: statement) }()
  }

  func error(from result: OpaquePointer, statement: String?) -> PostgresError {
    func field(_ code: Character) -> String? {
      guard let ascii = code.asciiValue, let text = PQresultErrorField(result, Int32(ascii)) else {
        return nil
      }
      return String(cString: text)
    }
    let sqlState = field("C")
    let message =
      field("M") ?? PQresultErrorMessage(result).map { String(cString: $0).trimmingWhitespace() }
    if PQstatus(handle) != CONNECTION_OK {
      return PostgresError(
        .connectionLost,
        "The connection to PostgreSQL was lost while a statement was in flight; it may or may not have run",
        sqlState: sqlState, serverMessage: message, statement: statement)
    }
    if sqlState == nil {
      return connectionError(
        statement: statement, serverMessage: message ?? Self.errorMessage(handle))
    }
    return PostgresError(
      .server, "PostgreSQL rejected the statement", sqlState: sqlState, serverMessage: message,
      serverDetail: field("D"), serverHint: field("H"), statement: statement)
  }

  private func connectionError(statement: String?, serverMessage: String?) -> PostgresError {
    if PQstatus(handle) != CONNECTION_OK {
      return PostgresError(
        .connectionLost,
        "The connection to PostgreSQL was lost while a statement was in flight; it may or may not have run",
        serverMessage: serverMessage, statement: statement)
    }
    return PostgresError(
      .server, "libpq reported an error", serverMessage: serverMessage, statement: statement)
  }

  // MARK: - Liveness and reconnection

  /// Called before each statement: reconnects if the server went away while the connection was
  /// idle outside a transaction; throws if it went away inside one.
  func prepareForStatement() throws {
    guard !isClosed else { throw PostgresError(.shutdown, "The connection was closed") }
    if isAlive() { return }
    if transactionDepth > 0 || lastTransactionStatus == PQTRANS_INTRANS
      || lastTransactionStatus == PQTRANS_INERROR
    {
      // Report the lost transaction once; the next statement outside a transaction reconnects.
      lastTransactionStatus = PQTRANS_IDLE
      throw PostgresError(
        .connectionLost,
        "The connection to PostgreSQL was lost inside a transaction; the server rolled it back. Retry the whole transaction"
      )
    }
    try reconnect()
  }

  /// Checks, without a round trip, whether the server closed the connection: an idle connection
  /// has nothing to read unless a notification, a notice or a goodbye (then EOF) arrived.
  func isAlive() -> Bool {
    for _ in 0..<4 {
      guard PQstatus(handle) == CONNECTION_OK else { return false }
      let socket = PQsocket(handle)
      guard socket >= 0 else { return false }
      var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
      guard poll(&descriptor, 1, 0) > 0 else { return true }
      // Reads what is there; a second pass sees EOF if the server sent a FATAL and hung up.
      if PQconsumeInput(handle) == 0 { return false }
      _ = PQisBusy(handle)
    }
    return PQstatus(handle) == CONNECTION_OK
  }

  /// Re-opens the connection with the same settings (`PQreset`), forgets prepared statements and
  /// re-issues LISTEN for every channel this connection listens on.
  /// - Throws: `PostgresError.Code.connectionFailed` if the server is still unreachable.
  public func reconnect() throws {
    guard !isClosed else { throw PostgresError(.shutdown, "The connection was closed") }
    PQreset(handle)
    guard PQstatus(handle) == CONNECTION_OK else {
      throw PostgresError(
        .connectionFailed, "Could not reconnect to PostgreSQL (\(configuration))",
        serverMessage: Self.errorMessage(handle))
    }
    reconnectCount += 1
    preparedStatements = [:]
    transactionDepth = 0
    lastTransactionStatus = PQTRANS_IDLE
    for channel in listenedChannels {
      PQclear(
        try checked(PQexec(handle, "LISTEN \(try quotedIdentifier(channel))"), statement: "listen"))
    }
  }

  /// Quotes an identifier (a channel name) with libpq's escaping.
  func quotedIdentifier(_ identifier: String) throws -> String {
    guard let escaped = PQescapeIdentifier(handle, identifier, identifier.utf8.count) else {
      throw PostgresError(.encoding, "Could not quote the identifier: \(Self.errorMessage(handle))")
    }
    defer { PQfreemem(escaped) }
    return String(cString: escaped)
  }
}

/// Calls `body` with a NULL-terminated array of C strings that live for the call.
func withCStringArray<R>(_ strings: [String], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
  let copies = strings.map { strdup($0) }
  defer { copies.forEach { free($0) } }
  return body(copies.map { $0.map { UnsafePointer($0) } } + [nil])
}

extension String {
  func trimmingWhitespace() -> String {
    var scalars = Substring(self)
    while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
    while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
    return String(scalars)
  }
}
