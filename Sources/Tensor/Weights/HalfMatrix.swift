/// A [rows, columns] row-major matrix of 16-bit floats at `base` (often inside a memory-mapped
/// checkpoint, at any alignment), and the kernels F16Weight and BF16Weight share.
struct HalfMatrix<Encoding: HalfEncoding>: @unchecked Sendable {
  let base: UnsafeRawPointer
  let outFeatures: Int
  let inFeatures: Int

  @inline(__always)
  func row(_ o: Int) -> UnsafeRawPointer { base + 2 * o * inFeatures }

  func decodeTile(
    rows: Range<Int>, columns: Range<Int>, into tile: UnsafeMutablePointer<Float>, stride: Int
  ) {
    for (i, o) in rows.enumerated() {
      Encoding.widen(row(o) + 2 * columns.lowerBound, into: tile + i * stride, count: columns.count)
    }
  }

  /// m = 1: four rows at a time share each activation load; two accumulators per row hide the
  /// FMA latency. Bound by memory bandwidth (2 bytes of W per multiply-add).
  func dotRows(
    _ rows: Range<Int>, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, accumulate: Bool
  ) {
    let n = inFeatures
    let n16 = n & ~15
    let xr = UnsafeRawPointer(x)
    var o = rows.lowerBound
    while o + 4 <= rows.upperBound {
      let w0 = row(o)
      let w1 = row(o + 1)
      let w2 = row(o + 2)
      let w3 = row(o + 3)
      var a0 = SIMD8<Float>()
      var a1 = SIMD8<Float>()
      var a2 = SIMD8<Float>()
      var a3 = SIMD8<Float>()
      var b0 = SIMD8<Float>()
      var b1 = SIMD8<Float>()
      var b2 = SIMD8<Float>()
      var b3 = SIMD8<Float>()
      var k = 0
      while k < n16 {
        let u = xr.loadUnaligned(fromByteOffset: 4 * k, as: SIMD8<Float>.self)
        let v = xr.loadUnaligned(fromByteOffset: 4 * k + 32, as: SIMD8<Float>.self)
        a0.addProduct(Encoding.load8(w0, k), u)
        a1.addProduct(Encoding.load8(w1, k), u)
        a2.addProduct(Encoding.load8(w2, k), u)
        a3.addProduct(Encoding.load8(w3, k), u)
        b0.addProduct(Encoding.load8(w0, k + 8), v)
        b1.addProduct(Encoding.load8(w1, k + 8), v)
        b2.addProduct(Encoding.load8(w2, k + 8), v)
        b3.addProduct(Encoding.load8(w3, k + 8), v)
        k += 16
      }
      var s0 = (a0 + b0).sum()
      var s1 = (a1 + b1).sum()
      var s2 = (a2 + b2).sum()
      var s3 = (a3 + b3).sum()
      while k < n {
        let xk = x[k]
        s0 += Encoding.load1(w0, k) * xk
        s1 += Encoding.load1(w1, k) * xk
        s2 += Encoding.load1(w2, k) * xk
        s3 += Encoding.load1(w3, k) * xk
        k += 1
      }
      if accumulate {
        y[o] += s0
        y[o + 1] += s1
        y[o + 2] += s2
        y[o + 3] += s3
      } else {
        y[o] = s0
        y[o + 1] = s1
        y[o + 2] = s2
        y[o + 3] = s3
      }
      o += 4
    }
    while o < rows.upperBound {
      let w0 = row(o)
      var a0 = SIMD8<Float>()
      var k = 0
      while k + 8 <= n {
        a0.addProduct(
          Encoding.load8(w0, k), xr.loadUnaligned(fromByteOffset: 4 * k, as: SIMD8<Float>.self))
        k += 8
      }
      var s0 = a0.sum()
      while k < n {
        s0 += Encoding.load1(w0, k) * x[k]
        k += 1
      }
      y[o] = accumulate ? y[o] + s0 : s0
      o += 1
    }
  }
}
