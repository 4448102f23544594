/// JSON string literals, escaped per RFC 8259: quotes, backslashes and control characters are
/// escaped, everything else (non-ASCII included) is kept as UTF-8. The one escaping routine for
/// every JSON text Trolley writes by hand (payloads, exports, safetensors headers).
public enum JSONString {
  /// Appends `text` as a quoted, escaped JSON string to `out`.
  public static func append(_ text: String, to out: inout String) {
    out += "\""
    // Most strings need no escaping: copy them whole.
    guard text.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) else {
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

  /// `text` as a quoted, escaped JSON string.
  public static func quoted(_ text: String) -> String {
    var out = ""
    append(text, to: &out)
    return out
  }
}
