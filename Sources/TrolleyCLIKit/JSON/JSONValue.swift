public import TrolleyJobContracts

/// A JSON value that keeps object keys in their original order and numbers as their original text,
/// so that metadata read from a manifest is written back exactly as the operator wrote it. The
/// same type a job payload carries (`JobJSON`), so manifest values go into payloads and results
/// come back out without conversion.
public typealias JSONValue = JobJSON

/// What the CLI reads from and prints about a JSON value.
extension JobJSON {
  /// The string payload, if this is a string.
  public var stringValue: String? {
    if case .string(let text) = self { return text }
    return nil
  }

  /// The value of the first member named `key`, if this is an object holding one.
  public subscript(key: String) -> JSONValue? {
    guard case .object(let members) = self else { return nil }
    return members.first(where: { $0.key == key })?.value
  }

  /// A short name of the value's type for error messages ("a number", "an object"...).
  public var typeName: String {
    switch self {
    case .null: "null"
    case .bool: "a boolean"
    case .number: "a number"
    case .string: "a string"
    case .array: "an array"
    case .object: "an object"
    }
  }

  /// The value as text for a CSV cell or a table: strings unquoted, everything else as JSON.
  public var plainText: String {
    switch self {
    case .string(let string): string
    case .null: ""
    default: text
    }
  }
}
