public import JobQueue

/// `fail`: fails with a retryable or a permanent error; with `succeedOnAttempt`, succeeds from
/// that attempt on (to exercise retries).
public struct FailJob: JobKind {
  public struct Payload: Decodable, Sendable {
    /// A permanent error (dead at once) instead of a retryable one. Default false.
    public var permanent: Bool?
    /// The error message. Default "fail job: requested failure".
    public var message: String?
    /// Succeed from this attempt on (1-based); nil: always fail.
    public var succeedOnAttempt: Int?
  }
  public struct Result: Encodable, Sendable {
    public var attempt: Int32
  }

  public static let name = "fail"

  /// Short waits, so tests and demos see retries quickly.
  public var retryPolicy: RetryPolicy {
    RetryPolicy(base: .milliseconds(200), maximum: .seconds(5))
  }

  public init() {}

  public func run(_ payload: Payload, context: JobContext) async throws -> Result {
    if let from = payload.succeedOnAttempt, context.attempt >= from {
      return Result(attempt: context.attempt)
    }
    let message = payload.message ?? "fail job: requested failure"
    throw JobFailure(payload.permanent == true ? .permanent : .transient, message)
  }
}
