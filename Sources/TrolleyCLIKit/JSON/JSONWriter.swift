import TrolleyBasics

/// Writes JSON text: strings escaped per RFC 8259, non-ASCII characters kept as UTF-8.
public enum JSONWriter {
  /// Appends `value` as compact JSON to `out`.
  public static func append(_ value: JSONValue, to out: inout String) {
    switch value {
    case .null: out += "null"
    case .bool(let flag): out += flag ? "true" : "false"
    case .number(let text): out += text
    case .string(let text): appendString(text, to: &out)
    case .array(let items):
      out += "["
      for (index, item) in items.enumerated() {
        if index > 0 { out += "," }
        append(item, to: &out)
      }
      out += "]"
    case .object(let members):
      out += "{"
      for (index, member) in members.enumerated() {
        if index > 0 { out += "," }
        appendString(member.key, to: &out)
        out += ":"
        append(member.value, to: &out)
      }
      out += "}"
    }
  }

  /// Appends `text` as a quoted, escaped JSON string to `out`.
  public static func appendString(_ text: String, to out: inout String) {
    JSONString.append(text, to: &out)
  }

  /// A quoted, escaped JSON string.
  public static func quoted(_ text: String) -> String { JSONString.quoted(text) }
}
