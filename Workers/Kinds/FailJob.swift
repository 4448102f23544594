public import JobQueue
import TrolleyBasics
public import TrolleyJobContracts

/// `fail`: fails with a retryable or a permanent error; with `succeedOnAttempt`, succeeds from
/// that attempt on (to exercise retries).
public struct FailJob: ContractJobKind {
  public typealias Contract = FailContract

  /// Short waits, so tests and demos see retries quickly.
  public var retryPolicy: RetryPolicy {
    RetryPolicy(base: .milliseconds(200), maximum: .seconds(5))
  }

  public init() {}

  public func run(_ payload: Contract.Payload, context: JobContext) async throws -> Contract.Result
  {
    if let from = payload.succeedOnAttempt, context.attempt >= from {
      return Contract.Result(attempt: context.attempt)
    }
    let message = payload.message ?? "fail job: requested failure"
    throw JobFailure(payload.permanent == true ? .permanent : .transient, message)
  }
}
