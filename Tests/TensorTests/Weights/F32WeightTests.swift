import Tensor
import Testing

@Suite struct F32WeightTests {
  @Test(arguments: [1, 3, 17])
  func blasMatchesNaive(rows: Int) {
    let out = 7
    let inF = 5
    let w = F32Weight(
      outFeatures: out, inFeatures: inF, values: (0..<(out * inF)).map { Float($0 % 11) * 0.25 - 1 }
    )
    let x = (0..<(rows * inF)).map { Float($0 % 7) * 0.5 - 1.5 }
    var y = [Float](repeating: 0, count: rows * out)
    x.withUnsafeBufferPointer { xp in
      y.withUnsafeMutableBufferPointer { yp in
        w.multiply(
          xp.baseAddress!, rows: rows, into: yp.baseAddress!, accumulate: false,
          scratch: MatmulScratch())
      }
    }
    let expected = w.multiplyNaive(x, rows: rows)
    for i in 0..<y.count { #expect(abs(y[i] - expected[i]) < 1e-5) }
  }
}
