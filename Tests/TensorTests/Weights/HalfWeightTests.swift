import Tensor
import Testing

@Suite struct HalfWeightTests {
  /// (out, in) shapes: odd sizes exercise every tail; in > 256 crosses tile boundaries; in > 4096
  /// takes the m = 1 kernel's column blocks (two full blocks and a ragged one).
  static let shapes: [(Int, Int)] = [(13, 37), (64, 300), (9, 8), (130, 520), (5, 4133)]
  /// Activation rows: 1 (fused m = 1), every count in 2...15 (tiled small batch: each one
  /// splits into register blocks differently), 16+ (widen + sgemm).
  static let rowCounts = Array(1...17) + [40]

  /// f32 runs here too: its decode batches share the tiled kernel.
  @Test(arguments: [StorageDType.f16, .bf16, .f32])
  func productMatchesNaiveReference(dtype: StorageDType) throws {
    for (outF, inF) in Self.shapes {
      let raw = TestTensorBytes.tensor(
        WeightCheck.randomValues(outF * inF, seed: UInt64(outF * inF)), shape: [outF, inF],
        dtype: dtype)
      let w = try makeLinearWeight(raw, format: .f16)
      #expect(w.byteCount == outF * inF * dtype.byteWidth)
      let widened = HalfConversion.floats(raw)
      let scratch = MatmulScratch()
      for rows in Self.rowCounts {
        let x = WeightCheck.randomValues(rows * inF, seed: UInt64(rows))
        let y = WeightCheck.product(w, x, rows: rows, scratch: scratch)
        WeightCheck.expectMatches(
          y, reference: widened, x: x, rows: rows, outFeatures: outF, inFeatures: inF)
        let initial = WeightCheck.randomValues(rows * outF, seed: 7)
        let summed = WeightCheck.product(
          w, x, rows: rows, accumulateOnto: initial, scratch: scratch)
        WeightCheck.expectMatches(
          summed, reference: widened, x: x, rows: rows, outFeatures: outF, inFeatures: inF,
          plus: initial)
      }
    }
  }

  @Test func factoryKeepsTheCheckpointsOwnFormat() throws {
    let values = WeightCheck.randomValues(6, seed: 1)
    #expect(
      try makeLinearWeight(
        TestTensorBytes.tensor(values, shape: [2, 3], dtype: .f16), format: .f16) is F16Weight)
    #expect(
      try makeLinearWeight(
        TestTensorBytes.tensor(values, shape: [2, 3], dtype: .bf16), format: .f16) is BF16Weight)
    #expect(
      try makeLinearWeight(
        TestTensorBytes.tensor(values, shape: [2, 3], dtype: .f32), format: .f16) is F32Weight)
    #expect(
      try makeLinearWeight(
        TestTensorBytes.tensor(values, shape: [2, 3], dtype: .bf16), format: .f32) is F32Weight)
  }

  @Test(arguments: WeightFormat.allCases)
  func factoryRejectsTensorsThatAreNotMatrices(format: WeightFormat) {
    let raw = TestTensorBytes.tensor(WeightCheck.randomValues(6, seed: 1), shape: [6], dtype: .bf16)
    #expect(throws: TensorError(.invalidShape, "")) { try makeLinearWeight(raw, format: format) }
  }

  @Test func wrongDTypeIsAnError() {
    let raw = TestTensorBytes.tensor([1, 2], shape: [1, 2], dtype: .bf16)
    #expect(throws: TensorError(.unsupportedFormat, "")) { try F16Weight(raw) }
  }

  @Test(arguments: [StorageDType.f16, .bf16, .f32])
  func copyRowWidensOneRow(dtype: StorageDType) throws {
    let (outF, inF) = (11, 21)
    let raw = TestTensorBytes.tensor(
      WeightCheck.randomValues(outF * inF, seed: 3), shape: [outF, inF], dtype: dtype)
    let w = try makeLinearWeight(raw, format: .f16)
    let widened = HalfConversion.floats(raw)
    var row = [Float](repeating: .nan, count: inF)
    for r in [0, 5, outF - 1] {
      row.withUnsafeMutableBufferPointer { w.copyRow(r, into: $0.baseAddress!) }
      #expect(row == Array(widened[(r * inF)..<((r + 1) * inF)]))
    }
  }

  /// An owned f16 copy built from f32 values equals the checkpoint-backed one bit for bit.
  @Test func ownedCopyMatchesBorrowedBytes() throws {
    let values = WeightCheck.randomValues(5 * 40, seed: 9)
    let borrowed = try F16Weight(TestTensorBytes.tensor(values, shape: [5, 40], dtype: .f16))
    let owned = F16Weight(outFeatures: 5, inFeatures: 40, values: values)
    #expect(borrowed.dequantized() == owned.dequantized())
    let bfBorrowed = try BF16Weight(TestTensorBytes.tensor(values, shape: [5, 40], dtype: .bf16))
    #expect(
      bfBorrowed.dequantized()
        == BF16Weight(outFeatures: 5, inFeatures: 40, values: values).dequantized())
  }
}
