/// What a typed error says it is: an enum each module declares with its own cases.
///
/// The raw value (the case name) is the code's `description`, which logs and tests print.
public protocol ErrorCode: RawRepresentable<String>, Hashable, Sendable, CustomStringConvertible {}

extension ErrorCode {
  public var description: String { rawValue }
}

/// A typed error: a `code` callers branch on and a `message` people read.
///
/// Every module's error is this type with its own code enum (`JobQueueError`, `TroLError`,
/// `TensorError`, `CLIError`, `JobFailure`), so they all behave the same way: `description` is
/// the message and is safe to log (never payloads, image bytes, prompts or passwords); callers
/// branch on `code`, never on the message text; two errors are equal when their codes are.
public struct CodedError<Kind: ErrorCode>: Error, Hashable, Sendable, CustomStringConvertible {
  /// The module's code enum (`JobQueueError.Code`, `TroLError.Code`...).
  public typealias Code = Kind

  public let code: Code
  /// What was wrong and what to do, naming the job, file, tensor or flag concerned.
  public let message: String
  /// Where the error was made (`#fileID`), for debugging.
  public let file: String
  public let line: Int

  /// Creates an error.
  ///
  /// - Parameters:
  ///   - code: what kind of failure this is; callers branch on it.
  ///   - message: what was wrong and what to do.
  public init(_ code: Code, _ message: String, file: String = #fileID, line: Int = #line) {
    self.code = code
    self.message = message
    self.file = file
    self.line = line
  }

  public var description: String { message }

  public static func == (lhs: CodedError, rhs: CodedError) -> Bool { lhs.code == rhs.code }
  public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}
