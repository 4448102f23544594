internal import CKernels

extension HalfPanels {
  /// `--compute bf16` with `vdpbf16ps` (AVX512-BF16 only): x rounded to bf16 rows once per call,
  /// W's rows in groups rounded to bf16 row-major in scratch, pairs of k multiplied and summed in
  /// f32 lanes. Same products as the AVX2 fallback (`widenedSgemm(roundToBF16:)`); only the
  /// summation order differs.
  func bf16DotProduct(
    _ x: UnsafePointer<Float>, rows m: Int, into y: UnsafeMutablePointer<Float>, accumulate: Bool,
    scratch: MatmulScratch
  ) {
    precondition(BF16Kernel.avx512bf16.isAvailable, "bf16DotProduct needs AVX512-BF16")
    let k = inFeatures
    let k2 = (k + 1) / 2 * 2
    let groupRows = max(
      Self.width, min(outFeatures, TiledProduct.sgemmChunkFloats / k2 / Self.width * Self.width))
    // bf16 values, two per float of scratch: x's m rows, then one group of W's rows.
    let buffer = scratch.floats((m * k2 + groupRows * k2) / 2)
    guard let base = buffer.baseAddress else { return }
    let xb = UnsafeMutableRawPointer(base).bindMemory(
      to: UInt16.self, capacity: (m + groupRows) * k2)
    let wb = xb + m * k2
    TensorThreads.parallelRanges(m, granule: 1, minimumPerThread: 16) { rows in
      for i in rows { Self.bf16Row(x + i * k, count: k, into: xb + i * k2, padded: k2) }
    }
    var o0 = 0
    while o0 < outFeatures {
      let n = min(groupRows, outFeatures - o0)
      TensorThreads.parallelRanges(n, granule: 1, minimumPerThread: 16) { range in
        let row = ThreadScratch.floats(k)
        for r in range {
          copyRow(o0 + r, into: row)
          Self.bf16Row(row, count: k, into: wb + r * k2, padded: k2)
        }
      }
      let group = o0
      TensorThreads.parallelRanges(n, granule: 1, minimumPerThread: 16) { range in
        trolley_bf16_product_avx512(
          xb, Int32(m), wb - group * k2, Int32(k2), Int32(group + range.lowerBound),
          Int32(group + range.upperBound), y, Int32(outFeatures), accumulate ? 1 : 0)
      }
      o0 += n
    }
  }

  /// One row rounded to bf16, zero-padded to `padded` values.
  static func bf16Row(
    _ row: UnsafePointer<Float>, count: Int, into target: UnsafeMutablePointer<UInt16>,
    padded: Int
  ) {
    for j in 0..<count { target[j] = BF16Rounding.bits(row[j]) }
    for j in count..<padded { target[j] = 0 }
  }
}
