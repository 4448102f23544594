import Testing

@testable import Tensor

/// `--compute int8` and `--compute bf16` prefill products against references computed here in
/// f64, within the error bounds their kernels document, on ragged shapes (partial blocks, odd
/// widths, rows not a multiple of the kernels' blocking), on every instruction-set path this CPU
/// can run. (VNNI and AVX512-BF16 paths run only on CPUs that have them: on an AVX2-only CPU the
/// loops below cover the AVX2 paths alone; `pathsThisCPURuns` records which ran.)
struct ReducedPrecisionProductTests {
  /// (rows ≥ 16, the prefill regime; outputs; inputs): partial last blocks, odd sizes.
  static let shapes = [(16, 32, 64), (17, 37, 70), (21, 5, 33), (40, 64, 95)]

  static func product(
    _ run: (UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void, x: [Float], count: Int,
    initial: [Float]? = nil
  ) -> [Float] {
    var y = initial ?? [Float](repeating: .nan, count: count)
    x.withUnsafeBufferPointer { xp in
      y.withUnsafeMutableBufferPointer { yp in run(xp.baseAddress!, yp.baseAddress!) }
    }
    return y
  }

  @Test(arguments: Int8Kernel.allCases.filter(\.isAvailable))
  func int8MatchesTheF64ReferenceWithinItsBound(kernel: Int8Kernel) throws {
    for (shapeIndex, (m, outF, inF)) in Self.shapes.enumerated() {
      let seed = UInt64(shapeIndex)
      let w = try Q8Weight(
        outFeatures: outF, inFeatures: inF,
        values: WeightCheck.randomValues(outF * inF, seed: 100 + seed), compute: .int8)
      var x = WeightCheck.randomValues(m * inF, seed: 200 + seed, scale: 3)
      for k in 0..<inF { x[k] = 0 }  // an all-zero row
      let dequantized = w.dequantized()
      for accumulate in [false, true] {
        let initial = accumulate ? WeightCheck.randomValues(m * outF, seed: 300 + seed) : nil
        let y = Self.product(
          { xp, yp in
            w.int8Multiply(
              xp, rows: m, into: yp, accumulate: accumulate, scratch: MatmulScratch(),
              kernel: kernel)
          }, x: x, count: m * outF, initial: initial)
        for i in 0..<m {
          var absMax: Float = 0
          for k in 0..<inF { absMax = max(absMax, abs(x[i * inF + k])) }
          let s = Double(absMax) / 127
          for o in 0..<outF {
            var exact = Double(initial?[i * outF + o] ?? 0)
            var weightSum = 0.0
            var magnitude = 0.0
            for k in 0..<inF {
              let wv = Double(dequantized[o * inF + k])
              exact += Double(x[i * inF + k]) * wv
              weightSum += abs(wv)
              magnitude += abs(Double(x[i * inF + k]) * wv)
            }
            // Activation rounding (s / 2 per input, times |w|) plus f32 sums.
            let bound = 0.5 * s * weightSum * 1.001 + 1e-5 * (magnitude + 1)
            let error = abs(Double(y[i * outF + o]) - exact)
            #expect(
              error <= bound,
              "\(kernel) [\(m), \(outF), \(inF)] y[\(i), \(o)]: error \(error) > bound \(bound)")
            if i == 0 { #expect(y[o] == (initial?[o] ?? 0)) }  // the zero row
          }
        }
      }
    }
  }

  @Test func int8IsUsedOnlyForPrefillAndAgreesWithTheDispatch() throws {
    let (m, outF, inF) = (17, 37, 70)
    let values = WeightCheck.randomValues(outF * inF, seed: 7)
    let exact = try Q8Weight(outFeatures: outF, inFeatures: inF, values: values)
    let int8 = try Q8Weight(outFeatures: outF, inFeatures: inF, values: values, compute: .int8)
    let x = WeightCheck.randomValues(m * inF, seed: 8)
    // Decode batches (m < 16) keep the f32 kernels: identical results.
    #expect(
      WeightCheck.product(int8, Array(x[0..<(4 * inF)]), rows: 4)
        == WeightCheck.product(exact, Array(x[0..<(4 * inF)]), rows: 4))
    // Prefill goes through the int8 kernel of `Int8Kernel.best`.
    let viaDispatch = WeightCheck.product(int8, x, rows: m)
    let direct = Self.product(
      { xp, yp in
        int8.int8Multiply(xp, rows: m, into: yp, accumulate: false, scratch: MatmulScratch())
      }, x: x, count: m * outF)
    #expect(viaDispatch == direct)
    #expect(viaDispatch != WeightCheck.product(exact, x, rows: m))
  }

  /// bf16 rounding: to nearest, ties to even, as `vcvtneps2bf16`.
  @Test func bf16RoundsToNearestEven() {
    #expect(BF16Rounding.bits(1.0) == 0x3F80)
    #expect(BF16Rounding.bits(Float(bitPattern: 0x3F80_8000)) == 0x3F80)  // tie, even below
    #expect(BF16Rounding.bits(Float(bitPattern: 0x3F81_8000)) == 0x3F82)  // tie, even above
    #expect(BF16Rounding.bits(Float(bitPattern: 0x3F80_8001)) == 0x3F81)
    #expect(BF16Rounding.rounded(-2.5) == -2.5)
    #expect(BF16Rounding.rounded(.infinity) == .infinity)
    #expect(BF16Rounding.rounded(.nan).isNaN)
  }

  @Test(arguments: BF16Kernel.allCases.filter(\.isAvailable), [StorageDType.f16, .bf16])
  func bf16MatchesTheF64ReferenceOfRoundedValues(kernel: BF16Kernel, dtype: StorageDType) {
    for (shapeIndex, (m, outF, inF)) in Self.shapes.enumerated() {
      let seed = UInt64(shapeIndex)
      let w = HalfWeight(
        outFeatures: outF, inFeatures: inF,
        values: WeightCheck.randomValues(outF * inF, seed: 400 + seed), dtype: dtype,
        compute: .bf16)
      let x = WeightCheck.randomValues(m * inF, seed: 500 + seed, scale: 2)
      let stored = w.dequantized()
      let y = Self.product(
        { xp, yp in
          switch kernel {
          case .avx2:
            w.panels.widenedSgemm(
              xp, rows: m, into: yp, accumulate: false, scratch: MatmulScratch(),
              roundToBF16: true)
          case .avx512bf16:
            w.panels.bf16DotProduct(
              xp, rows: m, into: yp, accumulate: false, scratch: MatmulScratch())
          }
        }, x: x, count: m * outF)
      for i in 0..<m {
        for o in 0..<outF {
          var rounded = 0.0
          var exact = 0.0
          var magnitude = 0.0
          for k in 0..<inF {
            let xv = x[i * inF + k]
            let wv = stored[o * inF + k]
            rounded += Double(BF16Rounding.rounded(xv)) * Double(BF16Rounding.rounded(wv))
            exact += Double(xv) * Double(wv)
            magnitude += abs(Double(xv) * Double(wv))
          }
          let value = Double(y[i * outF + o])
          // The bf16 products are exact in f32; only their f32 sum rounds.
          #expect(
            abs(value - rounded) <= 2e-6 * magnitude + 1e-30,
            "\(kernel) \(dtype) [\(m), \(outF), \(inF)] y[\(i), \(o)] vs rounded reference")
          // Against exact f32 inputs: each of x and w moves by at most 2^-9 relative.
          #expect(
            abs(value - exact) <= (2 * 0x1p-9 + 0x1p-18 + 2e-6) * magnitude,
            "\(kernel) \(dtype) [\(m), \(outF), \(inF)] y[\(i), \(o)] vs exact")
        }
      }
    }
  }

  @Test func modesNeedTheirWeightFormat() {
    let raw = TestTensorBytes.tensor([1, 2, 3, 4], shape: [2, 2], dtype: .f16)
    #expect(throws: TensorError.self) { try makeLinearWeight(raw, format: .f32, compute: .bf16) }
    #expect(throws: TensorError.self) { try makeLinearWeight(raw, format: .f16, compute: .int8) }
    #expect(throws: TensorError.self) { try makeLinearWeight(raw, format: .q4, compute: .int8) }
    #expect((try? makeLinearWeight(raw, format: .q8, compute: .int8)) is Q8Weight)
    #expect((try? makeLinearWeight(raw, format: .f16, compute: .bf16)) is HalfWeight)
  }

  /// Which paths this CPU ran (AVX2 always; the others only where the CPU has them).
  @Test func pathsThisCPURuns() {
    #expect(Int8Kernel.avx2.isAvailable)
    #expect(BF16Kernel.avx2.isAvailable)
    let vnni = Int8Kernel.vnni.isAvailable
    let bf16 = BF16Kernel.avx512bf16.isAvailable
    print("int8 paths: avx2\(vnni ? ", vnni" : ""); bf16 paths: avx2\(bf16 ? ", avx512bf16" : "")")
  }
}
