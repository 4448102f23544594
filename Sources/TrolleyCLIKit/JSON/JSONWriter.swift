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
    out += "\""
    var needsEscape = false
    for unit in text.utf8 where unit < 0x20 || unit == 0x22 || unit == 0x5C {
      needsEscape = true
      break
    }
    if !needsEscape {
      out += text
      out += "\""
      return
    }
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case "\u{08}": out += "\\b"
      case "\u{0C}": out += "\\f"
      default:
        if scalar.value < 0x20 {
          let hex = String(scalar.value, radix: 16)
          out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        } else {
          out.unicodeScalars.append(scalar)
        }
      }
    }
    out += "\""
  }

  /// A quoted, escaped JSON string.
  public static func quoted(_ text: String) -> String {
    var out = ""
    appendString(text, to: &out)
    return out
  }
}
