import CLibPQ

/// The rows a statement returned (all of them, already received), in binary format.
///
/// Immutable and `Sendable`: it can be returned from `PostgresClient.withConnection`.
/// ```swift
/// let rows = try connection.query("SELECT id, name FROM t WHERE id = ANY($1)", [ids])
/// for row in rows {
///   let (id, name) = try row.decode((Int64, String?).self)
/// }
/// let total = try rows.single().decode(0, as: Int64.self)   // for one-row results
/// ```
public final class PostgresRows: @unchecked Sendable, RandomAccessCollection {
  // The PGresult is only read after construction; libpq allows that from any thread.
  private let result: OpaquePointer
  /// The column names, in order.
  public let columnNames: [String]
  /// The column types, in order.
  public let columnTypes: [PostgresDataType]
  /// The statement's name, if the caller gave one.
  public let statement: String?
  private let rowCount: Int
  private let columnIndexes: [String: Int]

  init(result: OpaquePointer, statement: String?) {
    self.result = result
    self.statement = statement
    self.rowCount = Int(PQntuples(result))
    let columns = Int(PQnfields(result))
    var names: [String] = []
    var types: [PostgresDataType] = []
    var indexes: [String: Int] = [:]
    for column in 0..<columns {
      let name = PQfname(result, Int32(column)).map { String(cString: $0) } ?? "column\(column)"
      names.append(name)
      types.append(PostgresDataType(oid: PQftype(result, Int32(column))))
      if indexes[name] == nil { indexes[name] = column }
    }
    self.columnNames = names
    self.columnTypes = types
    self.columnIndexes = indexes
  }

  deinit { PQclear(result) }

  public var startIndex: Int { 0 }
  public var endIndex: Int { rowCount }

  public subscript(position: Int) -> PostgresRow {
    precondition(
      position >= 0 && position < rowCount, "row \(position) out of range 0..<\(rowCount)")
    return PostgresRow(rows: self, index: position)
  }

  /// The number of rows the statement inserted, updated, deleted, copied or selected
  /// (libpq's `PQcmdTuples`); 0 for statements that do not report one.
  public var affectedRowCount: Int {
    guard let text = PQcmdTuples(result) else { return 0 }
    return Int(String(cString: text)) ?? 0
  }

  /// The command tag, such as `UPDATE 3`.
  public var commandTag: String { PQcmdStatus(result).map { String(cString: $0) } ?? "" }

  /// The only row.
  /// - Throws: `PostgresError.Code.decoding` if there is not exactly one row.
  public func single() throws -> PostgresRow {
    guard rowCount == 1 else {
      throw PostgresError(
        .decoding, "Expected exactly one row, got \(rowCount)", statement: statement)
    }
    return self[0]
  }

  /// The index of the column with this name.
  func columnIndex(_ name: String) throws -> Int {
    guard let index = columnIndexes[name] else {
      throw PostgresError(
        .decoding, "No column named \(name) (columns: \(columnNames.joined(separator: ", ")))",
        statement: statement)
    }
    return index
  }

  func value(row: Int, column: Int) throws -> PostgresValue {
    guard column >= 0 && column < columnNames.count else {
      throw PostgresError(
        .decoding, "Column \(column) out of range: the result has \(columnNames.count) columns",
        statement: statement)
    }
    let name = columnNames[column]
    if PQgetisnull(result, Int32(row), Int32(column)) == 1 {
      return PostgresValue(bytes: nil, dataType: columnTypes[column], column: name)
    }
    let length = Int(PQgetlength(result, Int32(row), Int32(column)))
    let start = UnsafeRawPointer(PQgetvalue(result, Int32(row), Int32(column)))
    return PostgresValue(
      bytes: UnsafeRawBufferPointer(start: start, count: length), dataType: columnTypes[column],
      column: name)
  }

  /// Keeps the PGresult alive while a decoder reads its bytes.
  func withValue<T>(row: Int, column: Int, _ body: (PostgresValue) throws -> T) throws -> T {
    try withExtendedLifetime(self) { try body(try value(row: row, column: column)) }
  }
}

/// One row of a `PostgresRows`.
public struct PostgresRow: Sendable {
  /// The rows this row belongs to.
  public let rows: PostgresRows
  /// The row's position.
  public let index: Int

  /// Decodes the column at `column` (0-based).
  /// - Throws: `PostgresError` (`.unexpectedNull`, `.typeMismatch`, `.decoding`).
  public func decode<T: PostgresDecodable>(_ column: Int, as type: T.Type = T.self) throws -> T {
    do {
      return try rows.withValue(row: index, column: column) { try T.decode(from: $0) }
    } catch let error as PostgresError {
      throw error.inStatement(rows.statement)
    }
  }

  /// Decodes the column with this name.
  /// - Throws: `PostgresError` (`.unexpectedNull`, `.typeMismatch`, `.decoding`).
  public func decode<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T {
    try decode(try rows.columnIndex(column), as: T.self)
  }

  /// Decodes the first columns as a tuple: `let (id, name) = try row.decode((Int64, String).self)`.
  /// - Throws: `PostgresError` (`.unexpectedNull`, `.typeMismatch`, `.decoding`).
  public func decode<each T: PostgresDecodable>(_ types: (repeat each T).Type) throws -> (
    repeat each T
  ) {
    var column = 0
    func next<C: PostgresDecodable>(_ type: C.Type) throws -> C {
      defer { column += 1 }
      return try decode(column, as: C.self)
    }
    return (repeat try next((each T).self))
  }

  /// Whether the column is NULL.
  public func isNull(_ column: Int) -> Bool {
    (try? rows.withValue(row: index, column: column) { $0.bytes == nil }) ?? false
  }
}

extension PostgresError {
  /// The same error, naming the statement it came from (if it does not already).
  func inStatement(_ name: String?) -> PostgresError {
    guard statement == nil, let name else { return self }
    return PostgresError(
      code, message, sqlState: sqlState, serverMessage: serverMessage, serverDetail: serverDetail,
      serverHint: serverHint, statement: name, file: file, line: line)
  }
}
