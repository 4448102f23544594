import TrolleyBasics
public import TrolleyJobContracts

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// `crash`: kills the worker process at once (SIGKILL to itself), as an OOM kill or a segfault
/// would. The job's lease then expires, and the rescuer retries or quarantines it.
public struct CrashJob: ContractJobKind {
  public typealias Contract = CrashContract

  public init() {}

  public func run(_ payload: Contract.Payload, context: JobContext) async throws -> Contract.Result
  {
    if let ms = payload.ms, ms > 0 { try await context.sleep(for: .milliseconds(ms)) }
    kill(getpid(), SIGKILL)
    // SIGKILL cannot be caught; this line is never reached.
    throw JobFailure(.permanent, "crash job: the process survived SIGKILL")
  }
}
