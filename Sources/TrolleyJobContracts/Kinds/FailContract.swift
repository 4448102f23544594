/// `fail`: fails with a retryable or a permanent error; with `succeedOnAttempt`, succeeds from
/// that attempt on. Its keys are the property names as written (`succeedOnAttempt`).
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
