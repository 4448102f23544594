internal import CKernels

/// `--compute int8`: prefill products in int8.
///
/// Each activation row is quantized to int8 with its own scale s = max|x| / 127 (q = x / s
/// rounded to nearest even, so |x - q·s| ≤ s / 2), multiplied by the q8 quants in int32 per
/// block of 32, scaled by the block's weight scale in f32, and by s once per row. Error against
/// x · dequantized(W)ᵀ for output o of row x: at most (s / 2) · Σ_k |W[o, k]| from the activation
/// rounding, plus f32 summation over blocks (the int32 block sums are exact).
extension Q8Weight {
  /// y[rows, outFeatures] = x · Wᵀ (or `+=`) in int8 on `kernel`'s instruction set.
  func int8Multiply(
    _ x: UnsafePointer<Float>, rows m: Int, into y: UnsafeMutablePointer<Float>, accumulate: Bool,
    scratch: MatmulScratch, kernel: Int8Kernel = .best
  ) {
    precondition(kernel.isAvailable, "int8Multiply: this CPU cannot run \(kernel.rawValue)")
    let outF = outFeatures
    if m == 0 || outF == 0 { return }
    let stride = blocks.perRow * 32
    if stride == 0 {
      if !accumulate { y.update(repeating: 0, count: m * outF) }
      return
    }
    // One scratch buffer: m row scales, outF × blocks weight scales, then the int8 rows.
    let scaleFloats = m + outF * blocks.perRow
    let buffer = scratch.floats(scaleFloats + (m * stride + 3) / 4)
    guard let base = buffer.baseAddress else { return }
    let rowScales = base
    let weightScales = base + m
    let quantized = UnsafeMutableRawPointer(base + scaleFloats).bindMemory(
      to: Int8.self, capacity: m * stride)
    let inF = inFeatures
    TensorThreads.parallelRanges(m, granule: 1, minimumPerThread: 8) { range in
      for i in range {
        rowScales[i] = Self.quantizeRow(x + i * inF, count: inF, into: quantized + i * stride)
        (quantized + i * stride + inF).update(repeating: 0, count: stride - inF)
      }
    }
    for i in 0..<(outF * blocks.perRow) { weightScales[i] = Float(blocks.scales[i]) }
    let q = UnsafePointer(blocks.quants.baseAddress!)
    let blockCount = Int32(blocks.perRow)
    let xq = UnsafePointer(quantized)
    let xs = UnsafePointer(rowScales)
    let ws = UnsafePointer(weightScales)
    TensorThreads.parallelRanges(outF, granule: 2, minimumPerThread: 16) { range in
      let (o0, o1) = (Int32(range.lowerBound), Int32(range.upperBound))
      switch kernel {
      case .avx2:
        trolley_q8_int8_product_avx2(
          xq, xs, Int32(m), q, ws, blockCount, o0, o1, y, Int32(outF), accumulate ? 1 : 0)
      case .vnni:
        trolley_q8_int8_product_vnni(
          xq, xs, Int32(m), q, ws, blockCount, o0, o1, y, Int32(outF), accumulate ? 1 : 0)
      }
    }
  }

  /// Quantizes one activation row; returns its scale (0 for a row of zeros).
  static func quantizeRow(
    _ x: UnsafePointer<Float>, count: Int, into q: UnsafeMutablePointer<Int8>
  ) -> Float {
    var absMax: Float = 0
    for k in 0..<count { absMax = max(absMax, abs(x[k])) }
    guard absMax > 0, absMax.isFinite else {
      q.update(repeating: 0, count: count)
      return absMax.isFinite ? 0 : .nan
    }
    let scale = absMax / 127
    let inverse = 127 / absMax
    for k in 0..<count {
      q[k] = Int8(max(-127, min(127, (x[k] * inverse).rounded(.toNearestOrEven))))
    }
    return scale
  }
}
