import Tensor
import Testing
import TrolleyBasics

@Suite struct QuantizedWeightTests {
  /// Full blocks and a partial one; an odd number of full blocks (the m = 1 kernels take them in
  /// pairs); one block; rows split across threads; the model's 2048- and 8192-wide rows.
  static let shapes: [(Int, Int)] = [
    (13, 37), (64, 300), (9, 32), (130, 520), (5, 96), (6, 2048), (3, 8192),
  ]
  static let rowCounts = Array(1...17) + [40]

  static func quantize(_ format: WeightFormat, _ raw: RawTensorData) throws -> any LinearWeight {
    try makeLinearWeight(raw, format: format)
  }

  static func dequantized(_ w: any LinearWeight) -> [Float] {
    switch w {
    case let q as Q8Weight: q.dequantized()
    case let q as Q4Weight: q.dequantized()
    default: []
    }
  }

  @Test(arguments: [WeightFormat.q8, .q4])
  func productMatchesNaiveOnDequantizedMatrix(format: WeightFormat) throws {
    for (outF, inF) in Self.shapes {
      let values = WeightCheck.randomValues(outF * inF, seed: UInt64(outF + inF), scale: 0.1)
      let w = try Self.quantize(
        format, TestTensorBytes.tensor(values, shape: [outF, inF], dtype: .bf16))
      let reference = Self.dequantized(w)
      #expect(reference.count == outF * inF)
      WeightCheck.expectProductsMatch(
        w, reference: reference, rowCounts: Self.rowCounts, xSeed: { UInt64($0) + 100 },
        initialSeed: 8)
    }
  }

  /// Each weight is within half a quantization step of its original (plus f16 rounding of the
  /// block's scale and minimum), block by block.
  @Test(arguments: [WeightFormat.q8, .q4])
  func quantizationErrorIsWithinHalfAStep(format: WeightFormat) throws {
    let (outF, inF) = (40, 200)
    var values = WeightCheck.randomValues(outF * inF, seed: 11, scale: 0.05)
    for k in 0..<inF { values[3 * inF + k] = 0 }  // an all-zero row
    for k in 64..<96 { values[5 * inF + k] = 0.5 }  // a constant block
    values[7 * inF + 10] = 3  // an outlier widens one block's step
    let w = try Self.quantize(format, RawTensorData(copying: values, shape: [outF, inF]))
    let deq = Self.dequantized(w)
    var worstExcess: Float = -.infinity
    for o in 0..<outF {
      for blockStart in stride(from: 0, to: inF, by: 32) {
        let block = (blockStart..<min(inF, blockStart + 32)).map { o * inF + $0 }
        let low = block.map { values[$0] }.min()!
        let high = block.map { values[$0] }.max()!
        let magnitude = max(abs(low), abs(high))
        let step = format == .q8 ? magnitude / 127 : (high - low) / 15
        let bound = 0.5 * step * (1 + 0x1p-9) + magnitude * 0x1p-10
        for i in block { worstExcess = max(worstExcess, abs(deq[i] - values[i]) - bound) }
      }
    }
    #expect(worstExcess <= 0)
    #expect(deq[(3 * inF)..<(4 * inF)].allSatisfy { $0 == 0 })
    if format == .q4 {  // A constant block is its minimum with a zero step: exact.
      #expect(deq[(5 * inF + 64)..<(5 * inF + 96)].allSatisfy { $0 == 0.5 })
    }
  }

  @Test func quantizedFormatsAreSmaller() throws {
    let (outF, inF) = (64, 256)
    let raw = RawTensorData(
      copying: WeightCheck.randomValues(outF * inF, seed: 2), shape: [outF, inF], dtype: .bf16)
    let f16 = try makeLinearWeight(raw, format: .f16).byteCount
    let q8 = try makeLinearWeight(raw, format: .q8).byteCount
    let q4 = try makeLinearWeight(raw, format: .q4).byteCount
    #expect(f16 == outF * inF * 2)
    #expect(q8 == outF * inF + outF * inF / 32 * 2)
    #expect(q4 == outF * inF / 2 + outF * inF / 32 * 4)
  }

  /// Quantizing a 16-bit tensor equals quantizing its f32 widening: the source path is exact.
  @Test(arguments: [WeightFormat.q8, .q4])
  func sixteenBitSourceEqualsWidenedSource(format: WeightFormat) throws {
    let raw = TestTensorBytes.tensor(
      WeightCheck.randomValues(7 * 70, seed: 4), shape: [7, 70], dtype: .f16)
    let fromHalf = Self.dequantized(try Self.quantize(format, raw))
    let fromFloat = Self.dequantized(
      try Self.quantize(format, RawTensorData(copying: HalfConversion.floats(raw), shape: [7, 70])))
    #expect(fromHalf == fromFloat)
  }

  @Test(arguments: [WeightFormat.q8, .q4])
  func nonFiniteWeightsAreAnError(format: WeightFormat) {
    var values = WeightCheck.randomValues(4 * 40, seed: 1)
    values[2 * 40 + 5] = .nan
    #expect(throws: TensorError(.nonFiniteValue, "")) {
      try Self.quantize(format, RawTensorData(copying: values, shape: [4, 40]))
    }
    values[2 * 40 + 5] = -.infinity
    #expect(throws: TensorError(.nonFiniteValue, "")) {
      try Self.quantize(format, RawTensorData(copying: values, shape: [4, 40], dtype: .bf16))
    }
  }

  @Test(arguments: [WeightFormat.q8, .q4])
  func copyRowEqualsDequantizedRow(format: WeightFormat) throws {
    let (outF, inF) = (6, 45)
    let w = try Self.quantize(
      format,
      RawTensorData(copying: WeightCheck.randomValues(outF * inF, seed: 3), shape: [outF, inF]))
    let deq = Self.dequantized(w)
    var row = [Float](repeating: .nan, count: inF)
    for r in 0..<outF {
      row.withUnsafeMutableBufferPointer { w.copyRow(r, into: $0.baseAddress!) }
      #expect(row == Array(deq[(r * inF)..<((r + 1) * inF)]))
    }
  }
}
