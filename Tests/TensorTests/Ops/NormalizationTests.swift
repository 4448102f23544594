import Tensor
import Testing

@Suite struct NormalizationTests {
  @Test(arguments: [(1, 8), (3, 64), (5, 200)])
  func rmsNormMatchesNaive(rows: Int, dim: Int) {
    var values = TestValues(seed: UInt64(rows * dim))
    let x = values.floats(rows * dim, scale: 3)
    let weight = values.floats(dim)
    var y = [Float](repeating: 0, count: x.count)
    rmsNorm(&y, x, weight: weight, rows: rows, dim: dim, eps: 1e-5)
    let expected = rmsNormNaive(x, weight: weight, rows: rows, eps: 1e-5)
    #expect(maxAbsDifference(y, expected) < 1e-5)
  }

  @Test(arguments: [(1, 8), (4, 32), (2, 1024)])
  func layerNormMatchesNaive(rows: Int, dim: Int) {
    var values = TestValues(seed: UInt64(7 * rows + dim))
    let x = values.floats(rows * dim, scale: 4).map { $0 + 2 }
    let weight = values.floats(dim)
    let bias = values.floats(dim)
    var y = [Float](repeating: 0, count: x.count)
    layerNorm(&y, x, weight: weight, bias: bias, rows: rows, dim: dim, eps: 1e-6)
    let expected = layerNormNaive(x, weight: weight, bias: bias, rows: rows, eps: 1e-6)
    #expect(maxAbsDifference(y, expected) < 1e-5)
  }

  @Test func rmsNormWorksInPlace() {
    var values = TestValues(seed: 3)
    var x = values.floats(32, scale: 2)
    let weight = [Float](repeating: 1, count: 16)
    let expected = rmsNormNaive(x, weight: weight, rows: 2, eps: 1e-5)
    x.withUnsafeMutableBufferPointer {
      rmsNorm($0.baseAddress!, $0.baseAddress!, weight: weight, rows: 2, dim: 16, eps: 1e-5)
    }
    #expect(maxAbsDifference(x, expected) < 1e-5)
  }
}
