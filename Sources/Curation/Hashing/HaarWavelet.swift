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

  /// One axis of an n×n block stored with row stride `stride`: along axis 0 (pairs of rows) an
  /// element's neighbour is `stride` away and the lines are the columns, one apart; along axis 1
  /// (pairs of columns) the reverse.
  struct Axis {
    var step: Int
    var lineStep: Int

    static func rows(stride: Int) -> Axis { Axis(step: stride, lineStep: 1) }
    static func columns(stride: Int) -> Axis { Axis(step: 1, lineStep: stride) }
  }

  /// One level along `axis` of an `n`×`n` block: each line's pairs (p, q) become
  /// (h·p + h·q, h·p − h·q). Analysis reads the pairs from neighbours (2k, 2k+1) and writes the
  /// lows to k and the highs to n/2 + k; synthesis reads (k, n/2 + k) and writes (2k, 2k+1).
  /// (PyWavelets writes the analysis low as h·x₁ + h·x₀: floating-point addition commutes, so the
  /// bits are the same.)
  static func level(
    _ x: UnsafeMutablePointer<Double>, n: Int, along axis: Axis, synthesis: Bool,
    out: UnsafeMutablePointer<Double>
  ) {
    let half = n / 2
    for line in 0..<n {
      let source = x + line * axis.lineStep
      let target = out + line * axis.lineStep
      for k in 0..<half {
        let interleaved = ((2 * k) * axis.step, (2 * k + 1) * axis.step)
        let split = (k * axis.step, (half + k) * axis.step)
        let (from, to) = synthesis ? (split, interleaved) : (interleaved, split)
        let p = source[from.0]
        let q = source[from.1]
        target[to.0] = h * p + h * q
        target[to.1] = h * p - h * q
      }
    }
  }

  /// `wavedec2(data, 'haar', level)` in place, in the usual packed layout: after it, the
  /// top-left (size >> level)² block holds the approximation, and each level's three detail
  /// blocks sit beside it (their positions do not matter to the hash, only the values).
  static func decompose(_ data: inout [Double], size: Int, levels: Int) {
    withScratch(&data) { d, s in
      var n = size
      for _ in 0..<levels {
        level(d, n: n, along: .rows(stride: size), synthesis: false, out: s)
        level(s, n: n, along: .columns(stride: size), synthesis: false, out: d)
        n /= 2
      }
    }
  }

  /// `waverec2` of a packed decomposition of `levels` levels, in place.
  static func reconstruct(_ data: inout [Double], size: Int, levels: Int) {
    withScratch(&data) { d, s in
      var n = size >> (levels - 1)
      for _ in 0..<levels {
        level(d, n: n, along: .columns(stride: size), synthesis: true, out: s)
        level(s, n: n, along: .rows(stride: size), synthesis: true, out: d)
        n *= 2
      }
    }
  }

  /// Calls `body` with `data` and a scratch array of the same size (each level writes one into
  /// the other and back).
  private static func withScratch(
    _ data: inout [Double],
    _ body: (_ data: UnsafeMutablePointer<Double>, _ scratch: UnsafeMutablePointer<Double>) -> Void
  ) {
    var scratch = [Double](repeating: 0, count: data.count)
    data.withUnsafeMutableBufferPointer { d in
      scratch.withUnsafeMutableBufferPointer { s in
        guard let d = d.baseAddress, let s = s.baseAddress else { return }
        body(d, s)
      }
    }
  }
}
