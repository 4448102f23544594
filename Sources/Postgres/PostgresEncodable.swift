/// A Swift value that can be bound to a statement parameter (`$1`, `$2`, ...), in PostgreSQL's
/// binary format.
///
/// Conforming: `Bool`, `Int`, `Int16`, `Int32`, `Int64`, `UInt8` (as int2), `Float`, `Double`,
/// `String` (text), `[UInt8]` (bytea), `Date` (timestamptz), `UUID`, `PostgresJSONB` (jsonb),
/// arrays of these (`[Int64]` is int8[], `[String]` text[], `[UUID]` uuid[], ...) and `Optional`
/// of any of them (nil binds SQL NULL of the wrapped type).
public protocol PostgresEncodable: Sendable {
  /// The parameter's type, sent to the server with the value.
  static var postgresDataType: PostgresDataType { get }
  /// True when this value is SQL NULL (only `Optional.none` is).
  var isPostgresNull: Bool { get }
  /// Appends the value's binary representation. Not called when `isPostgresNull` is true.
  /// - Throws: `PostgresError.Code.encoding` when the value cannot be represented.
  func encode(into buffer: inout [UInt8]) throws
}

extension PostgresEncodable {
  public var isPostgresNull: Bool { false }
}

/// A Swift type that can be read from a result column in PostgreSQL's binary format.
///
/// Non-optional types throw `PostgresError.Code.unexpectedNull` for NULL; decode `T?` to accept it.
public protocol PostgresDecodable {
  /// Decodes one value.
  /// - Throws: `PostgresError` with `.unexpectedNull`, `.typeMismatch` or `.decoding`.
  static func decode(from value: PostgresValue) throws -> Self
}

/// Both directions.
public typealias PostgresCodable = PostgresEncodable & PostgresDecodable

/// A type that can be an element of a one-dimensional PostgreSQL array, which makes `[Self]`
/// encodable and decodable.
///
/// `UInt8` is special: `[UInt8]` is bytea, not an array of small integers.
public protocol PostgresArrayElement: PostgresCodable {
  /// The array type whose elements are `Self` (for example int8[] for Int64).
  static var postgresArrayDataType: PostgresDataType { get }
  /// Appends `[Self]`'s binary representation. The default writes a one-dimensional array.
  static func encodeArray(_ elements: [Self], into buffer: inout [UInt8]) throws
  /// Decodes `[Self]`. The default reads a zero- or one-dimensional array.
  static func decodeArray(from value: PostgresValue) throws -> [Self]
}

extension PostgresArrayElement {
  public static func encodeArray(_ elements: [Self], into buffer: inout [UInt8]) throws {
    let hasNull = elements.contains { $0.isPostgresNull }
    buffer.appendBigEndian(Int32(elements.isEmpty ? 0 : 1))  // dimensions
    buffer.appendBigEndian(Int32(hasNull ? 1 : 0))
    buffer.appendBigEndian(postgresDataType.oid)
    if !elements.isEmpty {
      guard elements.count <= Int(Int32.max) else {
        throw PostgresError(
          .encoding, "An array parameter has \(elements.count) elements; the limit is \(Int32.max)")
      }
      buffer.appendBigEndian(Int32(elements.count))
      buffer.appendBigEndian(Int32(1))  // lower bound
    }
    for element in elements {
      if element.isPostgresNull {
        buffer.appendBigEndian(Int32(-1))
        continue
      }
      let lengthOffset = buffer.count
      buffer.appendBigEndian(Int32(0))
      try element.encode(into: &buffer)
      let length = Int32(buffer.count - lengthOffset - 4).bigEndian
      withUnsafeBytes(of: length) { bytes in
        for index in 0..<4 { buffer[lengthOffset + index] = bytes[index] }
      }
    }
  }

  public static func decodeArray(from value: PostgresValue) throws -> [Self] {
    let bytes = try value.nonNullBytes(for: [Self].self)
    var reader = BinaryReader(bytes)
    guard let dimensions = reader.read(Int32.self), reader.read(Int32.self) != nil,
      let elementOID = reader.read(UInt32.self)
    else { throw value.malformed([Self].self, "truncated array header") }
    if dimensions == 0 { return [] }
    guard dimensions == 1 else {
      throw value.malformed([Self].self, "it has \(dimensions) dimensions; only one is supported")
    }
    guard let count = reader.read(Int32.self), reader.read(Int32.self) != nil, count >= 0 else {
      throw value.malformed([Self].self, "truncated array dimensions")
    }
    let elementType = PostgresDataType(oid: elementOID)
    var elements: [Self] = []
    elements.reserveCapacity(Int(count))
    for index in 0..<Int(count) {
      guard let length = reader.read(Int32.self) else {
        throw value.malformed([Self].self, "truncated element \(index)")
      }
      var elementBytes: UnsafeRawBufferPointer? = nil
      if length >= 0 {
        guard let slice = reader.readBytes(Int(length)) else {
          throw value.malformed([Self].self, "truncated element \(index)")
        }
        elementBytes = slice
      }
      elements.append(
        try Self.decode(
          from: PostgresValue(
            bytes: elementBytes, dataType: elementType, column: "\(value.column)[\(index + 1)]")))
    }
    return elements
  }
}

extension Array: PostgresEncodable where Element: PostgresArrayElement {
  public static var postgresDataType: PostgresDataType { Element.postgresArrayDataType }
  public func encode(into buffer: inout [UInt8]) throws {
    try Element.encodeArray(self, into: &buffer)
  }
}

extension Array: PostgresDecodable where Element: PostgresArrayElement {
  public static func decode(from value: PostgresValue) throws -> [Element] {
    try Element.decodeArray(from: value)
  }
}

extension Optional: PostgresEncodable where Wrapped: PostgresEncodable {
  public static var postgresDataType: PostgresDataType { Wrapped.postgresDataType }
  public var isPostgresNull: Bool {
    switch self {
    case .none: true
    case .some(let wrapped): wrapped.isPostgresNull
    }
  }
  public func encode(into buffer: inout [UInt8]) throws { try self?.encode(into: &buffer) }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
  public static func decode(from value: PostgresValue) throws -> Wrapped? {
    value.bytes == nil ? nil : try Wrapped.decode(from: value)
  }
}

extension Optional: PostgresArrayElement where Wrapped: PostgresArrayElement {
  public static var postgresArrayDataType: PostgresDataType { Wrapped.postgresArrayDataType }
}
