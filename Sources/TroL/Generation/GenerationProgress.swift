internal import Synchronization

/// How far one request's generation has got, readable from any thread while the engine runs (a
/// worker reports it with its heartbeats). The generator stores the count once per new token.
public final class GenerationProgress: Sendable {
  private let tokens = Atomic<Int>(0)

  public init() {}

  /// Tokens generated so far (for a beam search, the length of its beams).
  public var generatedTokens: Int { tokens.load(ordering: .relaxed) }

  func record(generatedTokens count: Int) { tokens.store(count, ordering: .relaxed) }
}
