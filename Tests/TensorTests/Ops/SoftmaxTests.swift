import Foundation
import Tensor
import Testing

@Suite struct SoftmaxTests {
  @Test(arguments: [1, 5, 8, 9, 117, 1226])
  func softmaxMatchesNaive(count: Int) {
    let (x, expected) = kernelAndReference(
      count: count, seed: UInt64(count), scale: 20, kernel: { softmax(&$0, count: count) },
      reference: softmaxNaive)
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
