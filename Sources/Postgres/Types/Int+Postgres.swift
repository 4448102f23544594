extension PostgresValue {
  /// Reads int2, int4, int8 or oid as Int64, so narrower columns decode into wider Swift integers.
  func integer<T>(as type: T.Type) throws -> Int64 {
    let bytes = try nonNullBytes(for: T.self)
    var reader = BinaryReader(bytes)
    let result: Int64?
    switch dataType {
    case .int2: result = reader.read(Int16.self).map(Int64.init)
    case .int4: result = reader.read(Int32.self).map(Int64.init)
    case .int8: result = reader.read(Int64.self)
    case .oidType: result = reader.read(UInt32.self).map(Int64.init)
    default: throw typeMismatch(T.self)
    }
    guard let result, reader.remaining == 0 else {
      throw malformed(T.self, "wrong length \(bytes.count)")
    }
    return result
  }

  func integer<I: FixedWidthInteger>(narrowedTo type: I.Type) throws -> I {
    let wide = try integer(as: I.self)
    guard let narrow = I(exactly: wide) else {
      throw malformed(I.self, "the value does not fit (decode a wider integer)")
    }
    return narrow
  }
}

/// Every integer column decodes alike: read at int8 width, then narrowed to `Self`, failing when
/// the value does not fit.
extension PostgresDecodable where Self: FixedWidthInteger {
  public static func decode(from value: PostgresValue) throws -> Self {
    try value.integer(narrowedTo: Self.self)
  }
}

/// Int16, Int32, Int64 and Int bind as the integer column of their width (int2, int4, int8),
/// written big-endian as they are, and arrays of them as that column's array type.
extension PostgresArrayElement where Self: FixedWidthInteger & SignedInteger {
  public static var postgresDataType: PostgresDataType { postgresIntegerTypes.element }
  public static var postgresArrayDataType: PostgresDataType { postgresIntegerTypes.array }
  public func encode(into buffer: inout [UInt8]) { buffer.appendBigEndian(self) }

  private static var postgresIntegerTypes: (element: PostgresDataType, array: PostgresDataType) {
    switch bitWidth {
    case 16: (.int2, .int2Array)
    case 32: (.int4, .int4Array)
    default: (.int8, .int8Array)  // 64 bits: Int64 and Int
    }
  }
}

extension Int64: PostgresArrayElement {}
extension Int: PostgresArrayElement {}
extension Int32: PostgresArrayElement {}
extension Int16: PostgresArrayElement {}

/// A lone `UInt8` is a small integer (int2); an array of them is bytea.
extension UInt8: PostgresArrayElement {
  public static var postgresDataType: PostgresDataType { .int2 }
  public static var postgresArrayDataType: PostgresDataType { .bytea }
  public func encode(into buffer: inout [UInt8]) { buffer.appendBigEndian(Int16(self)) }

  public static func encodeArray(_ elements: [UInt8], into buffer: inout [UInt8]) {
    buffer.append(contentsOf: elements)
  }

  public static func decodeArray(from value: PostgresValue) throws -> [UInt8] {
    let bytes = try value.nonNullBytes(for: [UInt8].self)
    guard value.dataType == .bytea else { throw value.typeMismatch([UInt8].self) }
    return [UInt8](bytes)
  }
}
