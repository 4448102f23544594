import Foundation
public import JobQueue
import Postgres
import TrolleyBasics

/// A job kind with its types erased, as the worker loop drives it: claimed jobs in, one
/// `JobOutcome` per job out.
public struct KindRunner: Sendable {
  /// The kind's name.
  public let name: String
  /// The most jobs run together.
  public let maxBatchSize: Int
  /// The kind's backoff after retryable errors (a timeout is one).
  public let retryPolicy: RetryPolicy
  private let execute: @Sendable ([ClaimedJob], [JobContext]) async -> [JobOutcome]
  private let key: @Sendable (ClaimedJob) -> String?

  /// Wraps a kind.
  public init<Kind: JobKind>(_ kind: Kind) {
    name = Kind.name
    maxBatchSize = max(1, kind.maxBatchSize)
    retryPolicy = kind.retryPolicy
    execute = { jobs, contexts in await Self.run(kind, jobs: jobs, contexts: contexts) }
    key = { job in
      (try? kind.decodePayload(job.payload, decoder: JSONDecoder())).flatMap(kind.groupKey)
    }
  }

  /// Wraps a kind given as an existential.
  public init(any kind: any JobKind) {
    self.init(kind)
  }

  /// The job's batching key (`JobKind.groupKey`); nil for a payload that does not decode.
  public func groupKey(_ job: ClaimedJob) -> String? { key(job) }

  /// Runs `jobs` (all of this kind, at most `maxBatchSize`) and returns their outcomes in order.
  public func run(_ jobs: [ClaimedJob], contexts: [JobContext]) async -> [JobOutcome] {
    await execute(jobs, contexts)
  }

  private static func run<Kind: JobKind>(
    _ kind: Kind, jobs: [ClaimedJob], contexts: [JobContext]
  ) async -> [JobOutcome] {
    var outcomes = [JobOutcome?](repeating: nil, count: jobs.count)
    var batch: [(payload: Kind.Payload, context: JobContext)] = []
    var positions: [Int] = []
    let decoder = JSONDecoder()
    for (index, job) in jobs.enumerated() {
      do {
        let payload = try kind.decodePayload(job.payload, decoder: decoder)
        batch.append((payload, contexts[index]))
        positions.append(index)
      } catch {
        outcomes[index] = .failedPermanently(
          error: "invalid payload for \(Kind.name): \(Self.describe(decoding: error))")
      }
    }
    if !batch.isEmpty {
      let results = await kind.run(batch: batch)
      let encoder = JSONEncoder()
      encoder.outputFormatting = .sortedKeys
      for (offset, position) in positions.enumerated() {
        let job = jobs[position]
        let result: Swift.Result<Kind.Result, any Error> =
          offset < results.count
          ? results[offset]
          : .failure(JobFailure(.transient, "\(Kind.name) returned no outcome for this job"))
        outcomes[position] = outcome(
          result, job: job, context: contexts[position], kind: kind, encoder: encoder)
      }
    }
    return outcomes.map { $0 ?? .failed(error: "no outcome", retryDelay: .seconds(1)) }
  }

  private static func outcome<Kind: JobKind>(
    _ result: Swift.Result<Kind.Result, any Error>, job: ClaimedJob, context: JobContext,
    kind: Kind, encoder: JSONEncoder
  ) -> JobOutcome {
    let policy = kind.retryPolicy
    switch result {
    case .success(let value):
      do {
        return .succeeded(result: try kind.encodeResult(value, encoder: encoder))
      } catch {
        return .failedPermanently(error: "the result could not be encoded as JSON: \(error)")
      }
    case .failure(let error as JobFailure):
      switch error.code {
      case .invalidPayload, .permanent: return .failedPermanently(error: error.message)
      case .cancelled: return stopped(context, job: job, policy: policy, message: error.message)
      default:
        return .failed(
          error: error.message, retryDelay: policy.delay(afterError: Int(job.errorCount) + 1))
      }
    case .failure(let error):
      if error is CancellationError, context.stopReason != nil {
        return stopped(context, job: job, policy: policy, message: "stopped")
      }
      return .failed(
        error: String(describing: error),
        retryDelay: policy.delay(afterError: Int(job.errorCount) + 1))
    }
  }

  /// A job that stopped on request: cancelled for a cancel, handed back at shutdown, failed
  /// (retryable) after its timeout.
  private static func stopped(
    _ context: JobContext, job: ClaimedJob, policy: RetryPolicy, message: String
  ) -> JobOutcome {
    switch context.stopReason {
    case .shutdown: .handedBack
    case .timedOut: timedOut(job, context: context, policy: policy)
    default: .cancelled(reason: message)
    }
  }

  /// The outcome of a job stopped by its timeout: retried with the kind's backoff.
  static func timedOut(_ job: ClaimedJob, context: JobContext, policy: RetryPolicy) -> JobOutcome {
    .failed(
      error: context.timeoutMessage, retryDelay: policy.delay(afterError: Int(job.errorCount) + 1))
  }

  private static func describe(decoding error: any Error) -> String {
    guard let error = error as? DecodingError else { return "\(error)" }
    switch error {
    case .keyNotFound(let key, _): return "missing field \(key.stringValue)"
    case .typeMismatch(_, let context), .valueNotFound(_, let context),
      .dataCorrupted(let context):
      let path = context.codingPath.map(\.stringValue).joined(separator: ".")
      return path.isEmpty ? context.debugDescription : "field \(path): \(context.debugDescription)"
    @unknown default: return "\(error)"
    }
  }
}
