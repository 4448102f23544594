/// `noop`: does nothing and succeeds; measures the queue itself.
public struct NoopJob: JobKind {
  public struct Payload: Decodable, Sendable {}
  public struct Result: Encodable, Sendable {}

  public static let name = "noop"
  /// Many at once: nothing to run, so the worker skips per-job task overhead.
  public var maxBatchSize: Int { 1000 }

  public init() {}

  public func run(_ payload: Payload, context: JobContext) async throws -> Result { Result() }
}
