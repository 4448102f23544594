public import Foundation
public import JobQueue
public import Postgres
public import TrolleyJobContracts

/// A kind of job: how to decode its payload, run it and encode its result.
///
/// Each kind is one file in `Workers/Kinds/` and is listed once in `AllKinds`. A kind decodes,
/// calls a library (the engine, curation...), and encodes: no SQL, no tensor code. It reports
/// failures as `JobFailure` (`.invalidPayload` and `.permanent` end the job dead, `.transient`
/// and any other error retry it with `retryPolicy`).
///
/// Kinds that benefit from running several jobs at once (an inference engine batch) set
/// `maxBatchSize` and implement `run(batch:)`; the worker hands them up to that many claimed
/// jobs of the kind at once and records each job's result or failure separately.
public protocol JobKind: Sendable {
  /// What the kind decodes from a job's payload.
  associatedtype Payload: Decodable & Sendable
  /// What the kind stores as the job's result.
  associatedtype Result: Encodable & Sendable

  /// The stable name jobs are enqueued with (`noop`, `trol.answer`...).
  static var name: String { get }
  /// The backoff after retryable errors. Default `RetryPolicy.standard`.
  var retryPolicy: RetryPolicy { get }
  /// The most jobs handed to `run(batch:)` at once. Default 1.
  var maxBatchSize: Int { get }

  /// Decodes a payload (a JSON object). The default uses `decoder`; a kind that ignores its
  /// payload may skip the parsing.
  func decodePayload(_ json: PostgresJSONB, decoder: JSONDecoder) throws -> Payload

  /// Encodes a result as JSON. The default uses `encoder`; a kind with a constant result may
  /// return it without encoding.
  func encodeResult(_ result: Result, encoder: JSONEncoder) throws -> PostgresJSONB

  /// Jobs of this kind with the same key are put in the same batch when they are claimed
  /// together (the TroL kinds: the image, so its questions share its prefix). Default nil.
  func groupKey(_ payload: Payload) -> String?

  /// Runs one job.
  func run(_ payload: Payload, context: JobContext) async throws -> Result

  /// Runs several jobs of this kind together and returns one outcome per job, in order.
  /// The default runs them one after another with `run(_:context:)`.
  func run(batch: [(payload: Payload, context: JobContext)]) async -> [Swift.Result<
    Result, any Error
  >]
}

extension JobKind {
  public var retryPolicy: RetryPolicy { .standard }
  public var maxBatchSize: Int { 1 }
  public func groupKey(_ payload: Payload) -> String? { nil }

  public func decodePayload(_ json: PostgresJSONB, decoder: JSONDecoder) throws -> Payload {
    try decoder.decode(Payload.self, from: Data(json.bytes))
  }

  public func encodeResult(_ result: Result, encoder: JSONEncoder) throws -> PostgresJSONB {
    PostgresJSONB(bytes: Array(try encoder.encode(result)))
  }

  public func run(batch: [(payload: Payload, context: JobContext)]) async -> [Swift.Result<
    Result, any Error
  >] {
    var results: [Swift.Result<Result, any Error>] = []
    results.reserveCapacity(batch.count)
    for item in batch {
      do {
        results.append(.success(try await run(item.payload, context: item.context)))
      } catch {
        results.append(.failure(error))
      }
    }
    return results
  }
}

/// A kind whose payload, result and name are those of its contract in `TrolleyJobContracts`, the
/// types enqueue encodes with: naming the contract once is the whole wire declaration.
public protocol ContractJobKind: JobKind
where Payload == Contract.Payload, Result == Contract.Result {
  /// The kind's wire contract.
  associatedtype Contract: JobContract
}

extension ContractJobKind {
  public static var name: String { Contract.name }
}
