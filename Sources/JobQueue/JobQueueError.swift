/// An error from the job queue: a lost lease, an unknown job or batch, a bad request.
///
/// `description` is safe to log (never payloads or connection strings); callers branch on `code`,
/// never on the message text. Database failures surface as the Postgres module's `PostgresError`.
public struct JobQueueError: Error, Hashable, Sendable, CustomStringConvertible {
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    private enum Value: String, Hashable, Sendable {
      case leaseLost, jobNotFound, batchNotFound, invalidRequest, dependencyNotFound, invalidState
    }
    private let value: Value
    private init(_ value: Value) { self.value = value }

    /// The caller's lease on the job was taken over (expired and rescued, cancelled, or the job
    /// finished): the write was rejected and changed nothing. Stop working on the job.
    public static let leaseLost = Code(.leaseLost)
    /// No job has that id (it may have been pruned).
    public static let jobNotFound = Code(.jobNotFound)
    /// No batch has that id or name.
    public static let batchNotFound = Code(.batchNotFound)
    /// A request's parameters are inconsistent or out of range.
    public static let invalidRequest = Code(.invalidRequest)
    /// A job was enqueued depending on a job id that does not exist.
    public static let dependencyNotFound = Code(.dependencyNotFound)
    /// The job is not in a state the operation applies to.
    public static let invalidState = Code(.invalidState)

    public var description: String { value.rawValue }
  }

  public let code: Code
  /// What was wrong and what to do, naming the job, batch or queue; never payloads.
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

  public static func == (lhs: JobQueueError, rhs: JobQueueError) -> Bool { lhs.code == rhs.code }
  public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}
