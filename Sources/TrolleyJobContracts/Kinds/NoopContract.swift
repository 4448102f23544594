/// `noop`: does nothing and succeeds. Payload and result are `{}`.
public enum NoopContract: JobContract {
  public static let kind = JobKindName.noop
  public struct Payload: Codable, Sendable, Equatable { public init() {} }
  public struct Result: Codable, Sendable, Equatable { public init() {} }
}
