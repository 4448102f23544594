/// Deterministic pseudo-random floats for kernel tests (a 64-bit LCG; no Foundation needed).
struct TestValues {
  private var state: UInt64

  init(seed: UInt64) { state = seed &* 6_364_136_223_846_793_005 &+ 1 }

  /// `count` floats uniform in [-scale, scale).
  mutating func floats(_ count: Int, scale: Float = 1) -> [Float] {
    (0..<count).map { _ in
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return (Float(state >> 40) / Float(1 << 24) * 2 - 1) * scale
    }
  }
}

/// The largest |a − b| over two equally long arrays.
func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
  precondition(a.count == b.count)
  return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}

/// An element-wise kernel run in place on `count` seeded values uniform in [-scale, scale), and
/// its naive reference on the same input: (kernel output, reference output).
func kernelAndReference(
  count: Int, seed: UInt64, scale: Float, kernel: (inout [Float]) -> Void,
  reference: ([Float]) -> [Float]
) -> (actual: [Float], expected: [Float]) {
  var values = TestValues(seed: seed)
  var x = values.floats(count, scale: scale)
  let expected = reference(x)
  kernel(&x)
  return (x, expected)
}
