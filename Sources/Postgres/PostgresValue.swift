/// One column value (or array element) as the server sent it, in binary format, handed to
/// `PostgresDecodable.decode(from:)`. `bytes` is nil for NULL and is only valid during that call.
public struct PostgresValue {
  /// The value's binary representation, or nil for SQL NULL.
  public let bytes: UnsafeRawBufferPointer?
  /// The value's PostgreSQL type.
  public let dataType: PostgresDataType
  /// The column's name (or `name[i]` for an array element), for error messages.
  public let column: String

  /// The bytes, or an `unexpectedNull` error naming the column and the Swift type.
  public func nonNullBytes<T>(for type: T.Type) throws -> UnsafeRawBufferPointer {
    guard let bytes else {
      throw PostgresError(
        .unexpectedNull,
        "Column \(column) is NULL but was decoded as non-optional \(T.self); decode it as \(T.self)?"
      )
    }
    return bytes
  }

  /// The error for a column whose type cannot become `T`.
  public func typeMismatch<T>(_ type: T.Type) -> PostgresError {
    PostgresError(
      .typeMismatch, "Column \(column) has type \(dataType), which cannot be decoded as \(T.self)")
  }

  /// The error for malformed bytes.
  public func malformed<T>(_ type: T.Type, _ reason: String) -> PostgresError {
    PostgresError(
      .decoding, "Column \(column) (\(dataType)) could not be decoded as \(T.self): \(reason)")
  }
}

/// Big-endian reading over a value's bytes, with bounds checks that throw rather than trap.
struct BinaryReader {
  let bytes: UnsafeRawBufferPointer
  var offset = 0

  init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

  var remaining: Int { bytes.count - offset }

  mutating func read<I: FixedWidthInteger>(_ type: I.Type) -> I? {
    let size = MemoryLayout<I>.size
    guard remaining >= size else { return nil }
    let value = bytes.loadUnaligned(fromByteOffset: offset, as: I.self)
    offset += size
    return I(bigEndian: value)
  }

  mutating func readBytes(_ count: Int) -> UnsafeRawBufferPointer? {
    guard count >= 0, remaining >= count else { return nil }
    let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
    offset += count
    return slice
  }
}

extension Array where Element == UInt8 {
  /// Appends an integer in network byte order.
  mutating func appendBigEndian<I: FixedWidthInteger>(_ value: I) {
    Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) }
  }
}
