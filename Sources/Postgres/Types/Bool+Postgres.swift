extension Bool: PostgresArrayElement {
  public static var postgresDataType: PostgresDataType { .bool }
  public static var postgresArrayDataType: PostgresDataType { .boolArray }
  public func encode(into buffer: inout [UInt8]) { buffer.append(self ? 1 : 0) }
  public static func decode(from value: PostgresValue) throws -> Bool {
    let bytes = try value.nonNullBytes(for: Bool.self)
    guard value.dataType == .bool else { throw value.typeMismatch(Bool.self) }
    guard bytes.count == 1 else { throw value.malformed(Bool.self, "wrong length \(bytes.count)") }
    return bytes[0] != 0
  }
}
