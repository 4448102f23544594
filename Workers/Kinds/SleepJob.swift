import TrolleyBasics
public import TrolleyJobContracts

/// `sleep`: waits `ms` milliseconds (stopping early on cancel), then succeeds.
public struct SleepJob: JobKind {
  public typealias Payload = SleepContract.Payload
  public typealias Result = SleepContract.Result

  public static let name = SleepContract.name

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
