public import Foundation
public import Postgres
public import TrolleyJobContracts

/// `noop`: does nothing and succeeds; measures the queue itself (`trolley bench queue`), so it
/// neither parses its payload (PostgreSQL already checked it is a JSON object) nor runs a JSON
/// encoder for its constant result: the figures are the queue's and the worker loop's, not
/// Foundation's JSON coders'.
public struct NoopJob: JobKind {
  public typealias Payload = NoopContract.Payload
  public typealias Result = NoopContract.Result

  public static let name = NoopContract.name
  /// Many at once: nothing to run, so the worker skips per-job task overhead.
  public var maxBatchSize: Int { 1000 }

  public init() {}

  public func decodePayload(_ json: PostgresJSONB, decoder: JSONDecoder) throws -> Payload {
    Payload()
  }

  public func encodeResult(_ result: Result, encoder: JSONEncoder) throws -> PostgresJSONB {
    Self.emptyObject
  }

  private static let emptyObject = PostgresJSONB(bytes: Array("{}".utf8))

  public func run(_ payload: Payload, context: JobContext) async throws -> Result { Result() }
}
