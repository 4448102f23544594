import TrolleyBasics

/// How long a job waits after a retryable error: exponential backoff with jitter, capped.
///
/// The n-th error (n = 1, 2, ...) waits `base * 2^(n-1)`, capped at `maximum`, then scaled by a
/// random factor in `[1 - jitter, 1]` so that jobs failing together do not retry together.
public struct RetryPolicy: Sendable, Hashable {
  /// The wait after the first error. Default 1 s.
  public var base: Duration
  /// The longest wait. Default 10 minutes.
  public var maximum: Duration
  /// The fraction of the wait that is random, 0...1. Default 0.25 (0: no jitter).
  public var jitter: Double

  public init(
    base: Duration = .seconds(1), maximum: Duration = .seconds(600), jitter: Double = 0.25
  ) {
    precondition(base >= .zero && maximum >= base, "RetryPolicy needs 0 <= base <= maximum")
    precondition((0...1).contains(jitter), "RetryPolicy.jitter must be within 0...1")
    self.base = base
    self.maximum = maximum
    self.jitter = jitter
  }

  /// The default policy: 1 s, 2 s, 4 s ... up to 10 minutes, 25% jitter.
  public static let standard = RetryPolicy()

  /// The wait after the `errorCount`-th error (1 for the first).
  /// - Parameter random: a number in `[0, 1)`; tests pass a fixed one.
  public func delay(afterError errorCount: Int, random: Double = Double.random(in: 0..<1))
    -> Duration
  {
    let exponent = min(max(errorCount - 1, 0), 62)
    let raw = base.seconds * Double(UInt64(1) << UInt64(exponent))
    let capped = min(raw, maximum.seconds)
    let scaled = capped * (1 - jitter * min(max(random, 0), 1))
    return .milliseconds(Int64((scaled * 1000).rounded()))
  }
}
