/// Writing the results of a four-row kernel group.
enum RowResults {
  /// Writes (or adds) the first `count` of four row results to y[0..<count].
  @inline(__always)
  static func store(
    _ r0: Float, _ r1: Float, _ r2: Float, _ r3: Float, count: Int,
    into y: UnsafeMutablePointer<Float>, accumulate: Bool
  ) {
    if accumulate {
      y[0] += r0
      if count > 1 { y[1] += r1 }
      if count > 2 { y[2] += r2 }
      if count > 3 { y[3] += r3 }
    } else {
      y[0] = r0
      if count > 1 { y[1] = r1 }
      if count > 2 { y[2] = r2 }
      if count > 3 { y[3] = r3 }
    }
  }
}
