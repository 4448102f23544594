public import Foundation

/// UUIDs bind as uuid and decode from uuid (16 bytes) or from text holding a UUID.
extension UUID: PostgresArrayElement {
  public static var postgresDataType: PostgresDataType { .uuid }
  public static var postgresArrayDataType: PostgresDataType { .uuidArray }

  public func encode(into buffer: inout [UInt8]) {
    withUnsafeBytes(of: uuid) { buffer.append(contentsOf: $0) }
  }

  public static func decode(from value: PostgresValue) throws -> UUID {
    let bytes = try value.nonNullBytes(for: UUID.self)
    switch value.dataType {
    case .uuid:
      guard bytes.count == 16 else {
        throw value.malformed(UUID.self, "wrong length \(bytes.count)")
      }
      var raw: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
      withUnsafeMutableBytes(of: &raw) { $0.copyMemory(from: bytes) }
      return UUID(uuid: raw)
    case .text, .varchar, .bpchar, .name, .unknown:
      guard let uuid = UUID(uuidString: String(decoding: bytes, as: UTF8.self)) else {
        throw value.malformed(UUID.self, "the text is not a UUID")
      }
      return uuid
    default:
      throw value.typeMismatch(UUID.self)
    }
  }
}
