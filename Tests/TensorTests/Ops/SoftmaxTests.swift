import Foundation
import Tensor
import Testing

@Suite struct SoftmaxTests {
  @Test(arguments: [1, 5, 8, 9, 117, 1226])
  func softmaxMatchesNaive(count: Int) {
    var values = TestValues(seed: UInt64(count))
    var x = values.floats(count, scale: 20)
    let expected = softmaxNaive(x)
    softmax(&x, count: count)
    #expect(maxAbsDifference(x, expected) < 1e-6)
    #expect(abs(x.reduce(0, +) - 1) < 1e-5)
  }

  @Test func logSoftmaxIsLogOfSoftmax() {
    var values = TestValues(seed: 11)
    var x = values.floats(50, scale: 10)
    var p = x
    softmax(&p, count: 50)
    logSoftmax(&x, count: 50)
    for (l, q) in zip(x, p) { #expect(abs(l - Float(log(Double(q)))) < 1e-5) }
  }
}
