import TrolleyBasics

/// A JSON value kept as written: numbers as their text, object members in order. Payloads carry
/// arbitrary operator data in it (a manifest row's `metadata`) without reinterpreting it.
public indirect enum JobJSON: Sendable, Equatable {
  case null
  case bool(Bool)
  /// The number's text (a valid JSON number).
  case number(String)
  case string(String)
  case array([JobJSON])
  case object([Member])

  /// One object member.
  public struct Member: Sendable, Equatable {
    public var key: String
    public var value: JobJSON
    public init(_ key: String, _ value: JobJSON) {
      self.key = key
      self.value = value
    }
  }

  /// Compact JSON text.
  public var text: String {
    var out = ""
    write(to: &out)
    return out
  }

  /// Appends compact JSON text to `out`.
  public func write(to out: inout String) {
    switch self {
    case .null: out += "null"
    case .bool(let flag): out += flag ? "true" : "false"
    case .number(let text): out += text
    case .string(let text): JSONString.append(text, to: &out)
    case .array(let items):
      out += "["
      for (index, item) in items.enumerated() {
        if index > 0 { out += "," }
        item.write(to: &out)
      }
      out += "]"
    case .object(let members):
      out += "{"
      for (index, member) in members.enumerated() {
        if index > 0 { out += "," }
        JSONString.append(member.key, to: &out)
        out += ":"
        member.value.write(to: &out)
      }
      out += "}"
    }
  }
}

extension JobJSON: Codable {
  private struct Key: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
  }

  /// Decodes any JSON value. Another decoder does not say in which order an object's keys came,
  /// so they are sorted; numbers become their shortest text.
  public init(from decoder: any Decoder) throws {
    if let object = try? decoder.container(keyedBy: Key.self) {
      self = .object(
        try object.allKeys.sorted { $0.stringValue < $1.stringValue }.map {
          Member($0.stringValue, try object.decode(JobJSON.self, forKey: $0))
        })
      return
    }
    if var array = try? decoder.unkeyedContainer() {
      var items: [JobJSON] = []
      while !array.isAtEnd { items.append(try array.decode(JobJSON.self)) }
      self = .array(items)
      return
    }
    let value = try decoder.singleValueContainer()
    if value.decodeNil() {
      self = .null
    } else if let flag = try? value.decode(Bool.self) {
      self = .bool(flag)
    } else if let integer = try? value.decode(Int64.self) {
      self = .number(String(integer))
    } else if let number = try? value.decode(Double.self) {
      self = .number(String(number))
    } else {
      self = .string(try value.decode(String.self))
    }
  }

  public func encode(to encoder: any Encoder) throws {
    switch self {
    case .null:
      var value = encoder.singleValueContainer()
      try value.encodeNil()
    case .bool(let flag):
      var value = encoder.singleValueContainer()
      try value.encode(flag)
    case .number(let text):
      var value = encoder.singleValueContainer()
      if let integer = Int64(text) {
        try value.encode(integer)
      } else {
        try value.encode(Double(text) ?? .nan)
      }
    case .string(let text):
      var value = encoder.singleValueContainer()
      try value.encode(text)
    case .array(let items):
      var array = encoder.unkeyedContainer()
      for item in items { try array.encode(item) }
    case .object(let members):
      var object = encoder.container(keyedBy: Key.self)
      for member in members {
        try object.encode(member.value, forKey: Key(stringValue: member.key))
      }
    }
  }
}
