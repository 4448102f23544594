public import Foundation
public import Postgres
public import TrolleyJobContracts

/// `noop`: does nothing and succeeds; measures the queue itself (`trolley bench queue`), so it
/// neither parses its payload (PostgreSQL already checked it is a JSON object) nor runs a JSON
/// encoder for its constant result: the figures are the queue's and the worker loop's, not
/// Foundation's JSON coders'.
public struct NoopJob: ContractJobKind {
  public typealias Contract = NoopContract
  /// Many at once: nothing to run, so the worker skips per-job task overhead.
  public var maxBatchSize: Int { 1000 }

  public init() {}

  public func decodePayload(_ json: PostgresJSONB, decoder: JSONDecoder) throws -> Contract.Payload
  {
    Contract.Payload()
  }

  public func encodeResult(_ result: Contract.Result, encoder: JSONEncoder) throws -> PostgresJSONB
  {
    Self.emptyObject
  }

  private static let emptyObject = PostgresJSONB(bytes: Array("{}".utf8))

  public func run(_ payload: Contract.Payload, context: JobContext) async throws -> Contract.Result
  { Contract.Result() }
}
