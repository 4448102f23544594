import Foundation
import Tensor
import Testing

@Suite struct ActivationTests {
  static let sizes = [1, 7, 8, 37, 1000]

  @Test(arguments: sizes)
  func geluMatchesNaive(count: Int) {
    let (x, expected) = kernelAndReference(
      count: count, seed: UInt64(count), scale: 6, kernel: { gelu(&$0, count: count) },
      reference: geluNaive)
    #expect(maxAbsDifference(x, expected) < 1e-6)
  }

  /// The activations held to the same relative bound against their naive references.
  enum RelativeActivation: CaseIterable, Sendable {
    case quickGELU, silu

    /// Added to the count for the seed, so each activation sees its own values.
    var seedOffset: Int { self == .quickGELU ? 1 : 2 }
    /// Input magnitude: wide enough to reach each function's saturated tails.
    var scale: Float { self == .quickGELU ? 12 : 30 }

    func apply(_ x: inout [Float], count: Int) {
      switch self {
      case .quickGELU: Tensor.quickGELU(&x, count: count)
      case .silu: Tensor.silu(&x, count: count)
      }
    }

    func reference(_ x: [Float]) -> [Float] {
      switch self {
      case .quickGELU: quickGELUNaive(x)
      case .silu: siluNaive(x)
      }
    }
  }

  @Test(arguments: RelativeActivation.allCases, sizes)
  func matchesNaiveWithinARelativeBound(activation: RelativeActivation, count: Int) {
    let (x, expected) = kernelAndReference(
      count: count, seed: UInt64(count + activation.seedOffset), scale: activation.scale,
      kernel: { activation.apply(&$0, count: count) }, reference: activation.reference)
    for (a, b) in zip(x, expected) { #expect(abs(a - b) <= 2e-6 * max(1, abs(b))) }
  }

  @Test(arguments: sizes)
  func swiGLUIsSiluTimesUp(count: Int) {
    var values = TestValues(seed: UInt64(count + 3))
    var gate = values.floats(count, scale: 8)
    let up = values.floats(count, scale: 2)
    let expected = zip(siluNaive(gate), up).map { $0 * $1 }
    let g = gate
    swiGLU(&gate, gate: g, up: up, count: count)
    for (a, b) in zip(gate, expected) { #expect(abs(a - b) <= 4e-6 * max(1, abs(b))) }
  }

  @Test func exp8IsAccurateOverTheRange() {
    var worst: Float = 0
    var x: Float = -87
    while x < 88 {
      let lanes = SIMD8<Float>((0..<8).map { x + Float($0) * 0.0137 })
      let e = exp8(lanes)
      for i in 0..<8 {
        let exact = Float(exp(Double(lanes[i])))
        worst = max(worst, abs(e[i] - exact) / exact)
      }
      x += 0.173
    }
    #expect(worst < 3e-7)
  }
}
