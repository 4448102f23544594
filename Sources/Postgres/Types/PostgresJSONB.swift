public import Foundation

/// A jsonb value, held as its UTF-8 JSON text.
///
/// Binds as jsonb; decodes from jsonb or json. Use `init(encoding:)` and `decode(_:)` to go
/// through `Codable`:
/// ```swift
/// try connection.query("INSERT INTO jobs (payload) VALUES ($1)", [PostgresJSONB(encoding: payload)])
/// let payload = try row.decode(0, as: PostgresJSONB.self).decode(Payload.self)
/// ```
public struct PostgresJSONB: Hashable, Sendable, PostgresArrayElement, CustomStringConvertible {
  /// The JSON text as UTF-8 bytes (without jsonb's version byte).
  public var bytes: [UInt8]

  /// Wraps JSON text. The server validates it when the value is bound.
  public init(text: String) { self.bytes = Array(text.utf8) }

  /// Wraps UTF-8 JSON bytes. The server validates them when the value is bound.
  public init(bytes: [UInt8]) { self.bytes = bytes }

  /// Encodes a value with `JSONEncoder`.
  /// - Throws: the encoder's error.
  public init(encoding value: some Encodable, encoder: JSONEncoder = JSONEncoder()) throws {
    self.bytes = Array(try encoder.encode(value))
  }

  /// The JSON text.
  public var text: String { String(decoding: bytes, as: UTF8.self) }

  public var description: String { text }

  /// Decodes the JSON with `JSONDecoder`.
  /// - Throws: the decoder's error.
  public func decode<T: Decodable>(_ type: T.Type, decoder: JSONDecoder = JSONDecoder()) throws -> T
  {
    try decoder.decode(T.self, from: Data(bytes))
  }

  public static var postgresDataType: PostgresDataType { .jsonb }
  public static var postgresArrayDataType: PostgresDataType { .jsonbArray }

  public func encode(into buffer: inout [UInt8]) {
    buffer.append(1)  // jsonb binary format version
    buffer.append(contentsOf: bytes)
  }

  public static func decode(from value: PostgresValue) throws -> PostgresJSONB {
    let bytes = try value.nonNullBytes(for: PostgresJSONB.self)
    switch value.dataType {
    case .jsonb:
      guard bytes.first == 1 else {
        throw value.malformed(PostgresJSONB.self, "unknown jsonb version")
      }
      return PostgresJSONB(bytes: [UInt8](bytes.dropFirst()))
    case .json, .text:
      return PostgresJSONB(bytes: [UInt8](bytes))
    default:
      throw value.typeMismatch(PostgresJSONB.self)
    }
  }
}
