/// `sleep`: waits `ms` milliseconds (stopping early on cancel), then succeeds. Its keys are the
/// property names as written (`sleptMs`), as they always were on the wire.
public enum SleepContract: JobContract {
  public static let kind = JobKindName.sleep
  public struct Payload: Codable, Sendable, Equatable {
    /// Milliseconds to sleep, 0 to 86,400,000.
    public var ms: Int
    public init(ms: Int) { self.ms = ms }
  }
  public struct Result: Codable, Sendable, Equatable {
    public var sleptMs: Int
    public init(sleptMs: Int) { self.sleptMs = sleptMs }
  }
}
