/// PyWavelets' 2-D Haar transforms (`wavedec2`, `waverec2`, mode "symmetric") on square
/// power-of-two arrays, in PyWavelets' operation order.
///
/// Each output is a sum of two products with h = 0.7071067811865476 (sqrt(2)/2 rounded):
/// analysis a = h·x₁ + h·x₀ and d = h·x₀ − h·x₁ for each pair (x₀, x₁); synthesis
/// x₀ = h·a + h·d and x₁ = h·a − h·d. A level transforms axis 0 (pairs of rows) before axis 1
/// (pairs of columns); reconstruction undoes axis 1 first. On even lengths the symmetric
/// extension is never read, so there are no boundary terms. wHash compares 64 coefficients with
/// their median, and on flat images rounding noise decides ties, hence the exact order.
enum HaarWavelet {
  static let h = 0.7071067811865476

  /// One analysis level along rows (axis 0) of a `rows`×`cols` block stored with row stride
  /// `stride`: writes the lows to rows 0..<rows/2 and the highs to rows/2..<rows of `out`.
  static func analyseAxis0(
    _ x: UnsafeMutablePointer<Double>, rows: Int, cols: Int, stride: Int,
    out: UnsafeMutablePointer<Double>
  ) {
    let half = rows / 2
    for k in 0..<half {
      let r0 = x + (2 * k) * stride
      let r1 = x + (2 * k + 1) * stride
      let lo = out + k * stride
      let hi = out + (half + k) * stride
      for j in 0..<cols {
        let x0 = r0[j]
        let x1 = r1[j]
        lo[j] = h * x1 + h * x0
        hi[j] = h * x0 - h * x1
      }
    }
  }

  /// One analysis level along columns (axis 1): lows to columns 0..<cols/2, highs after.
  static func analyseAxis1(
    _ x: UnsafeMutablePointer<Double>, rows: Int, cols: Int, stride: Int,
    out: UnsafeMutablePointer<Double>
  ) {
    let half = cols / 2
    for r in 0..<rows {
      let row = x + r * stride
      let o = out + r * stride
      for k in 0..<half {
        let x0 = row[2 * k]
        let x1 = row[2 * k + 1]
        o[k] = h * x1 + h * x0
        o[half + k] = h * x0 - h * x1
      }
    }
  }

  /// One synthesis level along columns (axis 1): inverse of `analyseAxis1`.
  static func synthesiseAxis1(
    _ x: UnsafeMutablePointer<Double>, rows: Int, cols: Int, stride: Int,
    out: UnsafeMutablePointer<Double>
  ) {
    let half = cols / 2
    for r in 0..<rows {
      let row = x + r * stride
      let o = out + r * stride
      for k in 0..<half {
        let a = row[k]
        let d = row[half + k]
        o[2 * k] = h * a + h * d
        o[2 * k + 1] = h * a - h * d
      }
    }
  }

  /// One synthesis level along rows (axis 0): inverse of `analyseAxis0`.
  static func synthesiseAxis0(
    _ x: UnsafeMutablePointer<Double>, rows: Int, cols: Int, stride: Int,
    out: UnsafeMutablePointer<Double>
  ) {
    let half = rows / 2
    for k in 0..<half {
      let lo = x + k * stride
      let hi = x + (half + k) * stride
      let r0 = out + (2 * k) * stride
      let r1 = out + (2 * k + 1) * stride
      for j in 0..<cols {
        let a = lo[j]
        let d = hi[j]
        r0[j] = h * a + h * d
        r1[j] = h * a - h * d
      }
    }
  }

  /// `wavedec2(data, 'haar', level)` in place, in the usual packed layout: after it, the
  /// top-left (size >> level)² block holds the approximation, and each level's three detail
  /// blocks sit beside it (their positions do not matter to the hash, only the values).
  static func decompose(_ data: inout [Double], size: Int, levels: Int) {
    var scratch = [Double](repeating: 0, count: data.count)
    data.withUnsafeMutableBufferPointer { d in
      scratch.withUnsafeMutableBufferPointer { s in
        guard let d = d.baseAddress, let s = s.baseAddress else { return }
        var n = size
        for _ in 0..<levels {
          analyseAxis0(d, rows: n, cols: n, stride: size, out: s)
          analyseAxis1(s, rows: n, cols: n, stride: size, out: d)
          n /= 2
        }
      }
    }
  }

  /// `waverec2` of a packed decomposition of `levels` levels, in place.
  static func reconstruct(_ data: inout [Double], size: Int, levels: Int) {
    var scratch = [Double](repeating: 0, count: data.count)
    data.withUnsafeMutableBufferPointer { d in
      scratch.withUnsafeMutableBufferPointer { s in
        guard let d = d.baseAddress, let s = s.baseAddress else { return }
        var n = size >> (levels - 1)
        for _ in 0..<levels {
          synthesiseAxis1(d, rows: n, cols: n, stride: size, out: s)
          synthesiseAxis0(s, rows: n, cols: n, stride: size, out: d)
          n *= 2
        }
      }
    }
  }
}
