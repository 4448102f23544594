public import TrolleyBasics

/// A configuration file: one `key = value` per line, `#` starts a comment. Values are TOML basic
/// strings (`"..."`, with TOML's escapes), literal strings (`'...'`, taken as written), or bare
/// numbers, booleans and words. This is the flat subset of TOML, so `config.toml` files written
/// for Trolley also read as TOML; what TOML allows beyond it (tables, arrays, multi-line strings)
/// is rejected with the line number rather than misread.
public struct ConfigurationFile: Sendable, Equatable {
  /// One setting and the line it came from.
  public struct Entry: Sendable, Equatable {
    public var value: String
    public var line: Int
  }

  /// Where the file was read from.
  public let path: String
  /// Settings by key name.
  public let entries: [String: Entry]

  /// Parses `contents`, rejecting unknown keys and malformed lines with their line numbers.
  /// - Throws: `CLIError.invalidConfiguration`.
  public init(path: String, contents: String) throws(CLIError) {
    self.path = path
    var entries: [String: Entry] = [:]
    var number = 0
    for rawLine in contents.split(separator: "\n", omittingEmptySubsequences: false) {
      number += 1
      let line = Self.stripComment(String(rawLine)).trimmingSpaces()
      if line.isEmpty || line == "\r" { continue }
      if line.hasPrefix("[") {
        throw CLIError(
          .invalidConfiguration,
          "\(path) line \(number): sections like \(line) are not supported. Write plain "
            + "key = value lines.")
      }
      guard let equals = line.firstIndex(of: "=") else {
        throw CLIError(
          .invalidConfiguration,
          "\(path) line \(number): expected key = value, found \"\(line)\".")
      }
      let key = String(line[..<equals]).trimmingSpaces()
      var value = String(line[line.index(after: equals)...]).trimmingSpaces()
      if value.hasSuffix("\r") { value = String(value.dropLast()).trimmingSpaces() }
      guard ConfigurationKey.named(key) != nil else {
        let known = ConfigurationKey.all.map(\.name).joined(separator: ", ")
        throw CLIError(
          .invalidConfiguration,
          "\(path) line \(number): unknown key \"\(key)\". Known keys: \(known).")
      }
      if value.hasPrefix("\"\"\"") || value.hasPrefix("'''") || value.hasPrefix("[")
        || value.hasPrefix("{")
      {
        throw CLIError(
          .invalidConfiguration,
          "\(path) line \(number): the value of \(key) is a multi-line string, array or table, "
            + "which Trolley's configuration does not use. Write one value on the line, e.g. "
            + "\(key) = \"value\".")
      }
      if value.hasPrefix("\"") {
        guard let unquoted = Self.unquote(value) else {
          throw CLIError(
            .invalidConfiguration,
            "\(path) line \(number): the value of \(key) has an unclosed quote, an unknown "
              + "escape or text after the closing quote. Use TOML's escapes (\\\\ \\\" \\n \\t "
              + "\\uXXXX), or single quotes for a value taken as written.")
        }
        value = unquoted
      } else if value.hasPrefix("'") {
        guard value.count >= 2, value.hasSuffix("'"),
          !value.dropFirst().dropLast().contains("'")
        else {
          throw CLIError(
            .invalidConfiguration,
            "\(path) line \(number): the value of \(key) has an unclosed single quote (a "
              + "literal string cannot contain '; use double quotes for that).")
        }
        value = String(value.dropFirst().dropLast())
      } else if value.contains("\"") || value.contains("'") {
        throw CLIError(
          .invalidConfiguration,
          "\(path) line \(number): the value of \(key) has a quote inside an unquoted value. "
            + "Quote the whole value: \(key) = \"...\" or \(key) = '...'.")
      }
      if let previous = entries[key] {
        throw CLIError(
          .invalidConfiguration,
          "\(path) line \(number): \(key) is already set on line \(previous.line). Keep one.")
      }
      entries[key] = Entry(value: value, line: number)
    }
    self.entries = entries
  }

  /// Drops a `#` comment that is not inside a basic ("...") or literal ('...') string.
  private static func stripComment(_ line: String) -> String {
    var quote: Character?
    var escaped = false
    for index in line.indices {
      let character = line[index]
      if escaped {
        escaped = false
      } else if character == "\\" && quote == "\"" {
        escaped = true
      } else if let open = quote {
        if character == open { quote = nil }
      } else if character == "\"" || character == "'" {
        quote = character
      } else if character == "#" {
        return String(line[..<index])
      }
    }
    return line
  }

  private static func unquote(_ value: String) -> String? {
    var result = ""
    var iterator = value.dropFirst().makeIterator()
    while let character = iterator.next() {
      switch character {
      case "\\":
        let escape = iterator.next()
        switch escape {
        case "\"": result.append("\"")
        case "\\": result.append("\\")
        case "n": result.append("\n")
        case "t": result.append("\t")
        case "r": result.append("\r")
        case "b": result.append("\u{08}")
        case "f": result.append("\u{0C}")
        case "u", "U":
          var hex = ""
          for _ in 0..<(escape == "u" ? 4 : 8) {
            guard let digit = iterator.next(), digit.isHexDigit else { return nil }
            hex.append(digit)
          }
          guard let code = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(code) else {
            return nil
          }
          result.unicodeScalars.append(scalar)
        default: return nil
        }
      case "\"":
        while let rest = iterator.next() {
          if rest != " " && rest != "\t" { return nil }
        }
        return result
      default:
        result.append(character)
      }
    }
    return nil
  }
}
