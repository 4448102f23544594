public import TrolleyBasics

/// An error from the operator CLI's library: a bad flag value, configuration, manifest or output file.
///
/// Its message is for the operator: what was wrong and what to do. It never contains secrets such
/// as database passwords.
public typealias CLIError = CodedError<CLIErrorCode>

/// What went wrong in the CLI's library (`CLIError.Code`).
public enum CLIErrorCode: String, ErrorCode {
  /// A flag or argument has a value the command cannot use (a usage error, exit code 2).
  case invalidArgument
  /// The configuration file or an environment variable holds a value that cannot be used.
  case invalidConfiguration
  /// A manifest is malformed as a whole (no header, no image column, or bad rows under --strict).
  case invalidManifest
  /// A file or folder named by the operator does not exist.
  case notFound
  /// Reading or writing a file failed.
  case io
}
