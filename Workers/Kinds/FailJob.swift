public import JobQueue
import TrolleyBasics
public import TrolleyJobContracts

/// `fail`: fails with a retryable or a permanent error; with `succeedOnAttempt`, succeeds from
/// that attempt on (to exercise retries).
public struct FailJob: JobKind {
  public typealias Payload = FailContract.Payload
  public typealias Result = FailContract.Result

  public static let name = FailContract.name

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
