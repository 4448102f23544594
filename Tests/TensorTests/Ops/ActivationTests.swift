import Foundation
import Tensor
import Testing

@Suite struct ActivationTests {
  static let sizes = [1, 7, 8, 37, 1000]

  @Test(arguments: sizes)
  func geluMatchesNaive(count: Int) {
    var values = TestValues(seed: UInt64(count))
    var x = values.floats(count, scale: 6)
    let expected = geluNaive(x)
    gelu(&x, count: count)
    #expect(maxAbsDifference(x, expected) < 1e-6)
  }

  @Test(arguments: sizes)
  func quickGELUMatchesNaive(count: Int) {
    var values = TestValues(seed: UInt64(count + 1))
    var x = values.floats(count, scale: 12)
    let expected = quickGELUNaive(x)
    quickGELU(&x, count: count)
    for (a, b) in zip(x, expected) { #expect(abs(a - b) <= 2e-6 * max(1, abs(b))) }
  }

  @Test(arguments: sizes)
  func siluMatchesNaive(count: Int) {
    var values = TestValues(seed: UInt64(count + 2))
    var x = values.floats(count, scale: 30)
    let expected = siluNaive(x)
    silu(&x, count: count)
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
