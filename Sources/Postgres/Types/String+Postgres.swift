import Foundation

/// Strings bind as text. They decode from any textual type (text, varchar, name, json, enums,
/// domains over text), from jsonb (the JSON text), from uuid (canonical lowercase form) and from
/// numeric (exact decimal text).
extension String: PostgresArrayElement {
  public static var postgresDataType: PostgresDataType { .text }
  public static var postgresArrayDataType: PostgresDataType { .textArray }
  public func encode(into buffer: inout [UInt8]) throws {
    if utf8.contains(0) {
      throw PostgresError(
        .encoding, "A text parameter contains a NUL character, which PostgreSQL text cannot hold")
    }
    buffer.append(contentsOf: utf8)
  }

  public static func decode(from value: PostgresValue) throws -> String {
    let bytes = try value.nonNullBytes(for: String.self)
    switch value.dataType {
    case .jsonb:
      guard bytes.first == 1 else { throw value.malformed(String.self, "unknown jsonb version") }
      return String(decoding: UnsafeRawBufferPointer(rebasing: bytes.dropFirst()), as: UTF8.self)
    case .uuid:
      return try UUID.decode(from: value).uuidString.lowercased()
    case .numeric:
      return try PostgresNumeric.text(from: value)
    default:
      if value.dataType.isNonTextual { throw value.typeMismatch(String.self) }
      return String(decoding: bytes, as: UTF8.self)
    }
  }
}
