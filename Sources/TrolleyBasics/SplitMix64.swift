/// SplitMix64 (Steele, Lea and Flood): a small, fast, seedable generator with the same sequence on
/// every platform. The one generator behind seeded sampling, synthetic weights and images, training
/// data order and initial values, and test inputs; their streams are pinned by tests, so `next()`
/// must never change.
///
/// `@inlinable` because this target is built without optimisation while its callers (the engine,
/// synthesis, training) are: the body is compiled into their hot loops instead of called.
public struct SplitMix64: RandomNumberGenerator, Sendable {
  /// The generator's whole state: the seed plus the number of draws times the golden gamma.
  public var state: UInt64

  @inlinable
  public init(seed: UInt64) { state = seed }

  @inlinable
  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// Uniform in [0, 1), from the top 53 bits.
  @inlinable
  public mutating func nextUnit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
