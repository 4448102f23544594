extension PostgresValue {
  /// Reads float4, float8 or numeric as Double.
  func double<T>(as type: T.Type) throws -> Double {
    let bytes = try nonNullBytes(for: T.self)
    var reader = BinaryReader(bytes)
    switch dataType {
    case .float4:
      guard let bits = reader.read(UInt32.self), reader.remaining == 0 else {
        throw malformed(T.self, "wrong length")
      }
      return Double(Float(bitPattern: bits))
    case .float8:
      guard let bits = reader.read(UInt64.self), reader.remaining == 0 else {
        throw malformed(T.self, "wrong length")
      }
      return Double(bitPattern: bits)
    case .numeric:
      let text = try PostgresNumeric.text(from: self)
      guard let number = Double(text) else { throw malformed(T.self, "not a finite number") }
      return number
    default:
      throw typeMismatch(T.self)
    }
  }
}

extension Double: PostgresArrayElement {
  public static var postgresDataType: PostgresDataType { .float8 }
  public static var postgresArrayDataType: PostgresDataType { .float8Array }
  public func encode(into buffer: inout [UInt8]) { buffer.appendBigEndian(bitPattern) }
  public static func decode(from value: PostgresValue) throws -> Double {
    try value.double(as: Double.self)
  }
}

extension Float: PostgresArrayElement {
  public static var postgresDataType: PostgresDataType { .float4 }
  public static var postgresArrayDataType: PostgresDataType { .float4Array }
  public func encode(into buffer: inout [UInt8]) { buffer.appendBigEndian(bitPattern) }
  public static func decode(from value: PostgresValue) throws -> Float {
    Float(try value.double(as: Float.self))
  }
}
