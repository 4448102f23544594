internal import Synchronization

/// Asks the engine to stop one request early: set it from any thread; the generator reads it once
/// per decode step and between prefill layers, and ends that request with `TroLError.Code.cancelled`
/// while the other requests of its batch carry on unchanged.
///
/// Setting it is permanent: a flag cannot be cleared, so a request never resumes half-done work.
public final class CancellationFlag: Sendable {
  private let state = Atomic<Bool>(false)

  public init() {}

  /// Whether `cancel()` was called.
  public var isCancelled: Bool { state.load(ordering: .relaxed) }

  /// Asks the request to stop at the engine's next check.
  public func cancel() { state.store(true, ordering: .relaxed) }
}
