public import Foundation

/// A job kind's wire contract: its name, the payload enqueue writes and the kind reads, and the
/// result the kind writes. Both sides use these types, so what is encoded is what is decoded.
///
/// Payloads are encoded by `JobJSONEncoder` (compact, keys in declaration order, absent optionals
/// left out: the text docs/cli.md shows); results by the worker's `JSONEncoder` (sorted keys).
public protocol JobContract {
  associatedtype Payload: Codable & Sendable
  associatedtype Result: Codable & Sendable
  /// The kind these types belong to.
  static var kind: JobKindName { get }
}

extension JobContract {
  /// The kind's name in the queue.
  public static var name: String { kind.rawValue }

  /// `payload` as the compact JSON text enqueue stores.
  public static func encode(_ payload: Payload) throws -> String {
    try JobJSONEncoder.encode(payload)
  }

  /// A payload as the kind reads it.
  public static func decodePayload(_ json: Data, decoder: JSONDecoder = JSONDecoder()) throws
    -> Payload
  {
    try decoder.decode(Payload.self, from: json)
  }
}
