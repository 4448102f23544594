/// `sleep`: waits `ms` milliseconds (stopping early on cancel), then succeeds.
public struct SleepJob: JobKind {
  public struct Payload: Decodable, Sendable {
    /// Milliseconds to sleep, 0 to 86,400,000.
    public var ms: Int
  }
  public struct Result: Encodable, Sendable {
    public var sleptMs: Int
  }

  public static let name = "sleep"

  public init() {}

  public func run(_ payload: Payload, context: JobContext) async throws -> Result {
    guard (0...86_400_000).contains(payload.ms) else {
      throw JobFailure(.invalidPayload, "sleep: ms must be within 0...86400000, got \(payload.ms)")
    }
    let steps = 10
    for step in 1...steps {
      try await context.sleep(for: .milliseconds(payload.ms) / steps)
      context.reportProgress(Double(step) / Double(steps))
    }
    return Result(sleptMs: payload.ms)
  }
}
