/// A configuration file: one `key = value` per line, `#` starts a comment, values may be in double
/// quotes (with `\"` and `\\` escapes). This is the flat subset of TOML, so `config.toml` files
/// written for Trolley also read as TOML.
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
      if value.hasPrefix("\"") {
        guard let unquoted = Self.unquote(value) else {
          throw CLIError(
            .invalidConfiguration,
            "\(path) line \(number): the value of \(key) has an unclosed or malformed quote.")
        }
        value = unquoted
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

  /// Drops a `#` comment that is not inside double quotes.
  private static func stripComment(_ line: String) -> String {
    var inQuotes = false
    var escaped = false
    for index in line.indices {
      let character = line[index]
      if escaped {
        escaped = false
      } else if character == "\\" && inQuotes {
        escaped = true
      } else if character == "\"" {
        inQuotes.toggle()
      } else if character == "#" && !inQuotes {
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
        switch iterator.next() {
        case "\"": result.append("\"")
        case "\\": result.append("\\")
        case "n": result.append("\n")
        case "t": result.append("\t")
        default: return nil
        }
      case "\"":
        return iterator.next() == nil ? result : nil
      default:
        result.append(character)
      }
    }
    return nil
  }
}
