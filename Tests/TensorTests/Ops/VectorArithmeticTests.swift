import Tensor
import Testing

@Suite struct VectorArithmeticTests {
  @Test(arguments: [1, 8, 13, 64])
  func mixInterpolates(count: Int) {
    var values = TestValues(seed: UInt64(count))
    let a = values.floats(count)
    let b = values.floats(count)
    var y = [Float](repeating: 0, count: count)
    mix(&y, a, b, weight: 0.25, count: count)
    for i in 0..<count { #expect(abs(y[i] - (0.75 * a[i] + 0.25 * b[i])) < 1e-6) }
  }

  @Test(arguments: [3, 8, 29])
  func dotAndAdd(count: Int) {
    var values = TestValues(seed: UInt64(count + 5))
    let a = values.floats(count)
    var b = values.floats(count)
    let expected = zip(a, b).map { Double($0) * Double($1) }.reduce(0, +)
    #expect(abs(Double(dot(a, b, count: count)) - expected) < 1e-5)
    let sum = zip(a, b).map { $0 + $1 }
    addInPlace(&b, a, count: count)
    #expect(b == sum)
  }
}
