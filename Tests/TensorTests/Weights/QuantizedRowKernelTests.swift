import Testing

@testable import Tensor

/// The m = 1 kernels of q8 and q4 (`dotRows`) on each instruction set this CPU has, against the
/// naive product of the dequantized matrix.
@Suite struct QuantizedRowKernelTests {
  /// QuantizedWeightTests' shapes, plus rows whose full blocks leave one, two or three blocks
  /// after the AVX-512 kernels' groups of four (and of two), with and without a partial block.
  static let shapes: [(Int, Int)] =
    QuantizedWeightTests.shapes + [(4, 64), (5, 160), (6, 224), (3, 200), (2, 4192), (3, 8223)]

  static var isas: [VectorISA] {
    VectorISA.best == .avx512 ? [.avx2, .avx512] : [.avx2]
  }

  /// y over `rows` (or `+=` onto `initial`) through `dotRows` on `isa`; outputs outside `rows`
  /// keep their initial value (NaN when not accumulating).
  static func dotRows(
    _ format: WeightFormat, _ w: any LinearWeight, _ x: [Float], rows: Range<Int>,
    initial: [Float]?, isa: VectorISA
  ) -> [Float] {
    var y = initial ?? [Float](repeating: .nan, count: w.outFeatures)
    x.withUnsafeBufferPointer { xs in
      y.withUnsafeMutableBufferPointer { ys in
        let (xp, yp, accumulate) = (xs.baseAddress!, ys.baseAddress!, initial != nil)
        switch w {
        case let q as Q8Weight: q.dotRows(rows, x: xp, y: yp, accumulate: accumulate, isa: isa)
        case let q as Q4Weight: q.dotRows(rows, x: xp, y: yp, accumulate: accumulate, isa: isa)
        default: Issue.record("not a quantized weight: \(format)")
        }
      }
    }
    return y
  }

  @Test(arguments: [WeightFormat.q8, .q4])
  func eachInstructionSetMatchesNaiveOnDequantizedMatrix(format: WeightFormat) throws {
    for (outF, inF) in Self.shapes {
      let values = WeightCheck.randomValues(outF * inF, seed: UInt64(outF * 31 + inF), scale: 0.1)
      let w = try QuantizedWeightTests.quantize(
        format, TestTensorBytes.tensor(values, shape: [outF, inF], dtype: .bf16))
      let reference = QuantizedWeightTests.dequantized(w)
      let x = WeightCheck.randomValues(inF, seed: UInt64(inF) + 7)
      let initial = WeightCheck.randomValues(outF, seed: 9)
      for isa in Self.isas {
        let y = Self.dotRows(format, w, x, rows: 0..<outF, initial: nil, isa: isa)
        WeightCheck.expectMatches(
          y, reference: reference, x: x, rows: 1, outFeatures: outF, inFeatures: inF)
        let summed = Self.dotRows(format, w, x, rows: 0..<outF, initial: initial, isa: isa)
        WeightCheck.expectMatches(
          summed, reference: reference, x: x, rows: 1, outFeatures: outF, inFeatures: inF,
          plus: initial)
        // A range of rows, as one thread gets: the others are left alone.
        let part = Self.dotRows(format, w, x, rows: 1..<(outF - 1), initial: nil, isa: isa)
        #expect(part.first!.isNaN && part.last!.isNaN, "\(format) \(outF)×\(inF) on \(isa)")
        #expect(part[1..<(outF - 1)] == y[1..<(outF - 1)], "\(format) \(outF)×\(inF) on \(isa)")
      }
    }
  }

  /// Extreme quants on both instruction sets: q8's ±127, q4's 0 and 15 in every nibble
  /// position, constant rows and blocks with a single large weight.
  @Test(arguments: [WeightFormat.q8, .q4])
  func extremeQuantsMatchOnEachInstructionSet(format: WeightFormat) throws {
    let (outF, inF) = (8, 512)
    var values = [Float](repeating: 0, count: outF * inF)
    for k in 0..<inF {
      values[k] = k % 2 == 0 ? 1 : -1  // q8 ±127, q4 0 and 15
      values[inF + k] = 1  // a constant row
      values[2 * inF + k] = Float(k % 16) - 8  // every nibble value
      values[3 * inF + k] = k % 32 == 31 ? 4 : 0  // one extreme per block
    }
    let w = try QuantizedWeightTests.quantize(
      format, RawTensorData(copying: values, shape: [outF, inF]))
    let reference = QuantizedWeightTests.dequantized(w)
    let x = WeightCheck.randomValues(inF, seed: 5)
    for isa in Self.isas {
      let y = Self.dotRows(format, w, x, rows: 0..<outF, initial: nil, isa: isa)
      WeightCheck.expectMatches(
        y, reference: reference, x: x, rows: 1, outFeatures: outF, inFeatures: inF)
    }
  }
}
