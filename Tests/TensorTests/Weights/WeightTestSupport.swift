import Tensor
import Testing
import TrolleyBasics

/// Owns bytes that a `RawTensorData` points into, like a checkpoint mapping does.
final class TestTensorBytes: @unchecked Sendable {
  let buffer: UnsafeMutableRawBufferPointer

  init(byteCount: Int) {
    buffer = .allocate(byteCount: max(1, byteCount), alignment: 16)
  }

  deinit { buffer.deallocate() }

  /// A tensor of `values` stored as `dtype` at byte offset `offset` (odd offsets test unaligned
  /// loads, as in a safetensors file).
  static func tensor(_ values: [Float], shape: [Int], dtype: StorageDType, offset: Int = 1)
    -> RawTensorData
  {
    let owner = TestTensorBytes(byteCount: offset + values.count * dtype.byteWidth)
    let start = owner.buffer.baseAddress! + offset
    RawTensorData.store(values, as: dtype, at: start)
    return RawTensorData(
      dtype: dtype, shape: shape,
      bytes: UnsafeRawBufferPointer(start: start, count: values.count * dtype.byteWidth),
      owner: owner)
  }
}

enum WeightCheck {
  static func randomValues(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
    var generator = SplitMix64(seed: seed)
    return (0..<count).map { _ in generator.nextSigned() * scale }
  }

  /// y = x · Wᵀ through the weight's optimized path; with `accumulate`, y starts at `initial`.
  static func product(
    _ w: any LinearWeight, _ x: [Float], rows: Int, accumulateOnto initial: [Float]? = nil,
    scratch: MatmulScratch = MatmulScratch()
  ) -> [Float] {
    var y = initial ?? [Float](repeating: .nan, count: rows * w.outFeatures)
    x.withUnsafeBufferPointer { xp in
      y.withUnsafeMutableBufferPointer { yp in
        w.multiply(
          xp.baseAddress!, rows: rows, into: yp.baseAddress!, accumulate: initial != nil,
          scratch: scratch)
      }
    }
    return y
  }

  /// For each row count m: W's product with m random rows (seeded by `xSeed(m)`), and the same
  /// product added onto m random rows (seed `initialSeed`), each checked by `expectMatches`
  /// against the dequantized matrix `reference`.
  static func expectProductsMatch(
    _ w: any LinearWeight, reference: [Float], rowCounts: [Int], xSeed: (Int) -> UInt64,
    initialSeed: UInt64, sourceLocation: SourceLocation = #_sourceLocation
  ) {
    let (outF, inF) = (w.outFeatures, w.inFeatures)
    let scratch = MatmulScratch()
    for rows in rowCounts {
      let x = randomValues(rows * inF, seed: xSeed(rows))
      let y = product(w, x, rows: rows, scratch: scratch)
      expectMatches(
        y, reference: reference, x: x, rows: rows, outFeatures: outF, inFeatures: inF,
        sourceLocation: sourceLocation)
      let initial = randomValues(rows * outF, seed: initialSeed)
      let summed = product(w, x, rows: rows, accumulateOnto: initial, scratch: scratch)
      expectMatches(
        summed, reference: reference, x: x, rows: rows, outFeatures: outF, inFeatures: inF,
        plus: initial, sourceLocation: sourceLocation)
    }
  }

  /// Checks y against the naive product of the dequantized matrix `w` (f64 sums): each element
  /// within f32 summation error, 2e-6 of Σ|x||w| for the row.
  static func expectMatches(
    _ y: [Float], reference w: [Float], x: [Float], rows: Int, outFeatures: Int, inFeatures: Int,
    plus initial: [Float]? = nil, sourceLocation: SourceLocation = #_sourceLocation
  ) {
    var worst: Double = 0
    for i in 0..<rows {
      for o in 0..<outFeatures {
        var sum: Double = 0
        var magnitude: Double = 0
        for k in 0..<inFeatures {
          let p = Double(x[i * inFeatures + k]) * Double(w[o * inFeatures + k])
          sum += p
          magnitude += abs(p)
        }
        if let initial { sum += Double(initial[i * outFeatures + o]) }
        let error = abs(Double(y[i * outFeatures + o]) - sum) / (magnitude + 1e-30)
        worst = max(worst, error.isNaN ? .infinity : error)
      }
    }
    #expect(worst < 2e-6, "worst relative error \(worst)", sourceLocation: sourceLocation)
  }
}

extension SplitMix64 {
  /// A float uniformly in [-1, 1), for test data (no dependence on the system RNG).
  mutating func nextSigned() -> Float { Float(next() >> 40) * 0x1p-23 - 1 }
}
