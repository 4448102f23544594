// The kinds that exercise the queue without a model (`trolley enqueue test`). Their keys are the
// property names as written (`succeedOnAttempt`, `sleptMs`), as they always were on the wire.

/// `noop`: does nothing and succeeds. Payload and result are `{}`.
public enum NoopContract: JobContract {
  public static let kind = JobKindName.noop
  public struct Payload: Codable, Sendable, Equatable { public init() {} }
  public struct Result: Codable, Sendable, Equatable { public init() {} }
}

/// `sleep`: waits `ms` milliseconds (stopping early on cancel), then succeeds.
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

/// `fail`: fails with a retryable or a permanent error; with `succeedOnAttempt`, succeeds from
/// that attempt on.
public enum FailContract: JobContract {
  public static let kind = JobKindName.fail
  public struct Payload: Codable, Sendable, Equatable {
    /// A permanent error (dead at once) instead of a retryable one. Default false.
    public var permanent: Bool?
    /// The error message. Default "fail job: requested failure".
    public var message: String?
    /// Succeed from this attempt on (1-based); nil: always fail.
    public var succeedOnAttempt: Int?
    public init(permanent: Bool? = nil, message: String? = nil, succeedOnAttempt: Int? = nil) {
      self.permanent = permanent
      self.message = message
      self.succeedOnAttempt = succeedOnAttempt
    }
  }
  public struct Result: Codable, Sendable, Equatable {
    public var attempt: Int32
    public init(attempt: Int32) { self.attempt = attempt }
  }
}

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
