/// How a job kind says a job failed; the code decides what the queue does next.
///
/// Any other error a kind throws counts as `.transient`. `description` is safe to log: it must
/// not quote payloads or results.
public struct JobFailure: Error, Hashable, Sendable, CustomStringConvertible {
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    private enum Value: String, Hashable, Sendable {
      case transient, invalidPayload, permanent, cancelled
    }
    private let value: Value
    private init(_ value: Value) { self.value = value }

    /// Might work next time (a timeout, a busy resource): retried with backoff while the error
    /// budget lasts.
    public static let transient = Code(.transient)
    /// The payload cannot be decoded or is out of range: dead at once.
    public static let invalidPayload = Code(.invalidPayload)
    /// No retry can fix it (a missing image, an unsupported format): dead at once.
    public static let permanent = Code(.permanent)
    /// The job stopped because it was asked to (cancel request, lease lost, shutdown).
    public static let cancelled = Code(.cancelled)

    public var description: String { value.rawValue }
  }

  public let code: Code
  /// What went wrong, stored as the job's last error.
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

  public static func == (lhs: JobFailure, rhs: JobFailure) -> Bool { lhs.code == rhs.code }
  public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}
