import TrolleyBasics
public import TrolleyJobContracts

/// `sleep`: waits `ms` milliseconds (stopping early on cancel), then succeeds.
public struct SleepJob: ContractJobKind {
  public typealias Contract = SleepContract

  public init() {}

  public func run(_ payload: Contract.Payload, context: JobContext) async throws -> Contract.Result
  {
    guard (0...86_400_000).contains(payload.ms) else {
      throw JobFailure(.invalidPayload, "sleep: ms must be within 0...86400000, got \(payload.ms)")
    }
    let steps = 10
    for step in 1...steps {
      try await context.sleep(for: .milliseconds(payload.ms) / steps)
      context.reportProgress(Double(step) / Double(steps))
    }
    return Contract.Result(sleptMs: payload.ms)
  }
}
