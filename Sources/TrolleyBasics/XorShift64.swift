/// Marsaglia's xorshift64 (shifts 13, 7, 17), seeded as `seed · 0x9E3779B97F4A7C15 | 1` so the
/// state is never zero. The generator of the synthetic curation pictures (ingest benchmark, tests);
/// their hashes and groups depend on its stream, so `next()` must never change.
///
/// `@inlinable`: this target is built without optimisation, its callers often with.
public struct XorShift64: Sendable {
  /// The generator's whole state (never zero).
  public var state: UInt64

  @inlinable
  public init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }

  @inlinable
  public mutating func next() -> UInt64 {
    state ^= state << 13
    state ^= state >> 7
    state ^= state << 17
    return state
  }
}
