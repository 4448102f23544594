public import TrolleyJobContracts

/// A JSON value that keeps object keys in their original order and numbers as their original text,
/// so that metadata read from a manifest is written back exactly as the operator wrote it.
public enum JSONValue: Sendable, Equatable {
  case null
  case bool(Bool)
  /// The number's text as it appeared in the input (already validated as a JSON number).
  case number(String)
  case string(String)
  case array([JSONValue])
  /// Members in input order. Duplicate keys are kept as they came; writers emit them all.
  case object([Member])

  /// One member of a JSON object.
  public struct Member: Sendable, Equatable {
    public var key: String
    public var value: JSONValue
    public init(_ key: String, _ value: JSONValue) {
      self.key = key
      self.value = value
    }
  }

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

  /// The value as compact JSON text.
  public var jsonText: String {
    var out = ""
    JSONWriter.append(self, to: &out)
    return out
  }

  /// The value as text for a CSV cell or a table: strings unquoted, everything else as JSON.
  public var plainText: String {
    switch self {
    case .string(let text): text
    case .null: ""
    default: jsonText
    }
  }
}

extension JSONValue {
  /// The same value as a job payload carries it (numbers keep their text, members their order).
  public var jobJSON: JobJSON {
    switch self {
    case .null: .null
    case .bool(let flag): .bool(flag)
    case .number(let text): .number(text)
    case .string(let text): .string(text)
    case .array(let items): .array(items.map(\.jobJSON))
    case .object(let members): .object(members.map { JobJSON.Member($0.key, $0.value.jobJSON) })
    }
  }
}
