import TrolleyBasics

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Small whole-file helpers for configuration files (which are tiny).
enum FileText {
  static func exists(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0
  }

  /// The file's text; invalid UTF-8 is refused.
  static func read(_ path: String) throws(CLIError) -> String {
    let reader = try LineReader(path: path)
    var lines: [String] = []
    while let line = try reader.nextLine() {
      guard let text = String(validating: line, as: UTF8.self) else {
        throw CLIError(
          .invalidConfiguration, "\(path) line \(reader.lineNumber) is not valid UTF-8 text.")
      }
      lines.append(text)
    }
    return lines.joined(separator: "\n")
  }
}
