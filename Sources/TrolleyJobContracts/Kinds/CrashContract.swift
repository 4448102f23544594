/// `crash`: kills the worker process (SIGKILL to itself), as an OOM kill would.
public enum CrashContract: JobContract {
  public static let kind = JobKindName.crash
  public struct Payload: Codable, Sendable, Equatable {
    /// Milliseconds to run before crashing. Default 0.
    public var ms: Int?
    public init(ms: Int? = nil) { self.ms = ms }
  }
  public struct Result: Codable, Sendable, Equatable { public init() {} }
}
