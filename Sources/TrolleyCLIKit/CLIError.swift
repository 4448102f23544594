/// An error from the operator CLI's library: a bad flag value, configuration, manifest or output file.
///
/// `description` is the message for the operator: what was wrong and what to do. It never contains
/// secrets such as database passwords. Callers branch on `code`, never on the message text.
public struct CLIError: Error, Hashable, Sendable, CustomStringConvertible {
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    private enum Value: String, Hashable, Sendable {
      case invalidArgument, invalidConfiguration, invalidManifest, notFound, io
    }
    private let value: Value
    private init(_ value: Value) { self.value = value }

    /// A flag or argument has a value the command cannot use (a usage error, exit code 2).
    public static let invalidArgument = Code(.invalidArgument)
    /// The configuration file or an environment variable holds a value that cannot be used.
    public static let invalidConfiguration = Code(.invalidConfiguration)
    /// A manifest is malformed as a whole (no header, no image column, or bad rows under --strict).
    public static let invalidManifest = Code(.invalidManifest)
    /// A file or folder named by the operator does not exist.
    public static let notFound = Code(.notFound)
    /// Reading or writing a file failed.
    public static let io = Code(.io)

    public var description: String { value.rawValue }
  }

  public let code: Code
  /// What was wrong and what to do.
  public let message: String
  public let file: String
  public let line: Int

  public init(_ code: Code, _ message: String, file: String = #fileID, line: Int = #line) {
    self.code = code
    self.message = message
    self.file = file
    self.line = line
  }

  public var description: String { message }

  public static func == (lhs: CLIError, rhs: CLIError) -> Bool { lhs.code == rhs.code }
  public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}
