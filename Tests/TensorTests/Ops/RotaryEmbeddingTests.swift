import Foundation
import Tensor
import Testing

@Suite struct RotaryEmbeddingTests {
  @Test(arguments: [0, 1, 17, 130, 4095])
  func rotationMatchesNaivePerHead(position: Int) {
    let rope = RotaryEmbedding(headDim: 16, base: 1_000_000)
    var values = TestValues(seed: UInt64(position + 1))
    var x = values.floats(3 * 16, scale: 2)
    let expected = (0..<3).flatMap { h in
      rope.applyNaive(Array(x[(h * 16)..<(h * 16 + 16)]), position: position)
    }
    var table = [Float](repeating: 0, count: 16)
    rope.apply(&x, heads: 3, position: position, table: &table)
    #expect(maxAbsDifference(x, expected) < 1e-5)
  }

  @Test func positionZeroIsIdentityWithoutMagnitude() {
    let rope = RotaryEmbedding(headDim: 8, base: 10_000)
    var x: [Float] = [1, 2, 3, 4, 5, 6, 7, 8]
    var table = [Float](repeating: 0, count: 8)
    rope.apply(&x, heads: 1, position: 0, table: &table)
    #expect(x == [1, 2, 3, 4, 5, 6, 7, 8])
  }

  @Test func longRoPEScalesMagnitudeAndDividesFrequencies() {
    let factors: [Float] = [1, 2, 4, 8]
    let magnitude = Float((1 + log(131_072.0 / 4096) / log(4096.0)).squareRoot())
    let rope = RotaryEmbedding(headDim: 8, base: 10_000, factors: factors, magnitude: magnitude)
    let plain = RotaryEmbedding(headDim: 8, base: 10_000)
    for i in 0..<4 {
      #expect(abs(rope.inverseFrequencies[i] * factors[i] - plain.inverseFrequencies[i]) < 1e-7)
    }
    var x: [Float] = [1, 0, 0, 0, 0, 0, 0, 0]
    var table = [Float](repeating: 0, count: 8)
    rope.apply(&x, heads: 1, position: 0, table: &table)
    // At position 0 the rotation is the identity, so only the magnitude remains (≈ 1.1902381).
    #expect(abs(x[0] - 1.190_238_1) < 1e-6)
  }
}
