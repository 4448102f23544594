import Testing
import TrolleyBasics

@testable import Tensor

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
      WeightCheck.expectProductsMatch(
        w, reference: widened, rowCounts: Self.rowCounts, xSeed: { UInt64($0) }, initialSeed: 7)
    }
  }

  @Test func factoryKeepsTheCheckpointsOwnFormat() throws {
    let values = WeightCheck.randomValues(6, seed: 1)
    #expect(
      (try makeLinearWeight(
        TestTensorBytes.tensor(values, shape: [2, 3], dtype: .f16), format: .f16) as? HalfWeight)?
        .dtype == .f16)
    #expect(
      (try makeLinearWeight(
        TestTensorBytes.tensor(values, shape: [2, 3], dtype: .bf16), format: .f16) as? HalfWeight)?
        .dtype == .bf16)
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
    let raw = TestTensorBytes.tensor([1, 2], shape: [1, 2], dtype: .f32)
    #expect(throws: TensorError(.unsupportedFormat, "")) { try HalfWeight(raw) }
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

  /// A copy built from f32 values equals the one repacked from checkpoint bytes bit for bit.
  @Test(arguments: [StorageDType.f16, .bf16])
  func ownedCopyMatchesCheckpointBytes(dtype: StorageDType) throws {
    let values = WeightCheck.randomValues(5 * 40, seed: 9)
    let packed = try HalfWeight(TestTensorBytes.tensor(values, shape: [5, 40], dtype: dtype))
    let owned = HalfWeight(outFeatures: 5, inFeatures: 40, values: values, dtype: dtype)
    #expect(packed.dequantized() == owned.dequantized())
    #expect(
      packed.dequantized()
        == HalfConversion.floats(TestTensorBytes.tensor(values, shape: [5, 40], dtype: dtype)))
  }

  /// Every output is one multiply-add chain over k in order, so a row's result does not depend on
  /// how many rows share the call, nor on the instruction set: the guarantee that lets a decode
  /// batch equal its sequences run alone.
  @Test(arguments: [StorageDType.f16, .bf16])
  func rowsAreBitIdenticalAloneInABatchAndOnEitherInstructionSet(dtype: StorageDType) throws {
    let (outF, inF) = (75, 300)
    let w = try HalfWeight(
      TestTensorBytes.tensor(
        WeightCheck.randomValues(outF * inF, seed: 21), shape: [outF, inF], dtype: dtype))
    let m = 15
    let x = WeightCheck.randomValues(m * inF, seed: 22)
    let initial = WeightCheck.randomValues(m * outF, seed: 23)
    let panels = 0..<w.panels.panelCount
    var isas: [VectorISA] = [.avx2]
    if VectorISA.best == .avx512 { isas.append(.avx512) }
    for accumulate in [false, true] {
      var batches: [[Float]] = []
      for isa in isas {
        var batch = initial
        x.withUnsafeBufferPointer { xs in
          batch.withUnsafeMutableBufferPointer { ys in
            w.panels.multiplyPanels(
              panels, xs.baseAddress!, rows: m, into: ys.baseAddress!, accumulate: accumulate,
              isa: isa)
          }
        }
        for i in 0..<m {
          var alone = Array(initial[(i * outF)..<((i + 1) * outF)])
          x.withUnsafeBufferPointer { xs in
            alone.withUnsafeMutableBufferPointer { ys in
              w.panels.multiplyPanels(
                panels, xs.baseAddress! + i * inF, rows: 1, into: ys.baseAddress!,
                accumulate: accumulate, isa: isa)
            }
          }
          #expect(alone == Array(batch[(i * outF)..<((i + 1) * outF)]), "row \(i) on \(isa)")
        }
        batches.append(batch)
      }
      if batches.count == 2 { #expect(batches[0] == batches[1]) }
    }
  }

  /// The products through the narrower kernels (`TROLLEY_KERNELS=avx2` or a CPU without AVX-512)
  /// match the reference too.
  @Test(arguments: [StorageDType.f16, .bf16])
  func avx2KernelsMatchNaiveReference(dtype: StorageDType) throws {
    for (outF, inF) in Self.shapes {
      let raw = TestTensorBytes.tensor(
        WeightCheck.randomValues(outF * inF, seed: UInt64(outF + inF)), shape: [outF, inF],
        dtype: dtype)
      let w = try HalfWeight(raw)
      let widened = HalfConversion.floats(raw)
      for rows in [1, 2, 3, 8, 9] {
        let x = WeightCheck.randomValues(rows * inF, seed: UInt64(rows))
        var y = [Float](repeating: .nan, count: rows * outF)
        x.withUnsafeBufferPointer { xs in
          y.withUnsafeMutableBufferPointer { ys in
            w.panels.multiplyPanels(
              0..<w.panels.panelCount, xs.baseAddress!, rows: rows, into: ys.baseAddress!,
              accumulate: false, isa: .avx2)
          }
        }
        WeightCheck.expectMatches(
          y, reference: widened, x: x, rows: rows, outFeatures: outF, inFeatures: inF)
      }
    }
  }
}
