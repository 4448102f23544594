internal import Foundation

/// SciPy's unnormalised DCT-II, X_k = 2 Σ x_n cos(πk(2n+1)/2N), replayed in the exact operation
/// order of pocketfft (the C++ header SciPy ships, `T_dcst23` over `rfftp`) for power-of-two N.
///
/// Why replay instead of any correct DCT: pHash compares each coefficient with the median of
/// 64 of them, and on flat or mirrored images most coefficients are float noise around zero, so
/// which side of the median a coefficient falls on depends on the last bit of each rounding.
/// Matching imagehash bit for bit on such images needs the same additions and multiplications in
/// the same order, with the same twiddle factors (computed here the way pocketfft computes them).
///
/// The transform: multiply c[0] and c[N−1] by 2; turn each pair (c[k], c[k+1]) for odd k into
/// (c[k+1] + c[k], c[k+1] − c[k]); run the backward real FFT (radix 4 passes, a radix 2 pass
/// first in the factor list); combine mirrored outputs with the cosines of 2π(k+1)/4N; scale the
/// middle coefficient.
struct PocketDCT: Sendable {
  let length: Int
  /// Radix of each pass, in pocketfft's factor order (a 2, if any, moved to the front).
  private let factors: [Int]
  /// Per factor, its twiddle table (empty for the last).
  private let twiddles: [[Double]]
  /// cos(2π(i+1)/4N) for i in 0..<N, as pocketfft's `sincos_2pibyn(4N)` computes it.
  private let cosines: [Double]

  init(length: Int) {
    precondition(length >= 2 && length & (length - 1) == 0, "PocketDCT needs a power of two ≥ 2")
    self.length = length
    var factors: [Int] = []
    var remaining = length
    while remaining % 4 == 0 {
      factors.append(4)
      remaining /= 4
    }
    if remaining % 2 == 0 {
      remaining /= 2
      factors.append(2)
      factors.swapAt(0, factors.count - 1)
    }
    self.factors = factors

    let roots = UnitRoots(length)
    var twiddles: [[Double]] = []
    var l1 = 1
    for (index, ip) in factors.enumerated() {
      let ido = length / (l1 * ip)
      var table: [Double] = []
      if index < factors.count - 1 {
        table = [Double](repeating: 0, count: (ip - 1) * (ido - 1))
        for j in 1..<ip {
          var i = 1
          while i <= (ido - 1) / 2 {
            let root = roots[j * l1 * i]
            table[(j - 1) * (ido - 1) + 2 * i - 2] = root.r
            table[(j - 1) * (ido - 1) + 2 * i - 1] = root.i
            i += 1
          }
        }
      }
      twiddles.append(table)
      l1 *= ip
    }
    self.twiddles = twiddles

    let quarter = UnitRoots(4 * length)
    cosines = (0..<length).map { quarter[$0 + 1].r }
  }

  /// Transforms `c` (length `length`) in place; `scratch` must hold `length` values.
  func transform(_ c: inout [Double], scratch: inout [Double]) {
    let n = length
    let half = (n + 1) / 2
    c[0] *= 2
    if n & 1 == 0 { c[n - 1] *= 2 }
    var k = 1
    while k < n - 1 {
      // MPINPLACE(c[k+1], c[k])
      let t = c[k + 1]
      c[k + 1] = t - c[k]
      c[k] = t + c[k]
      k += 2
    }
    backwardRealFFT(&c, &scratch)
    var kc = n - 1
    k = 1
    while k < half {
      let t1 = cosines[k - 1] * c[kc] + cosines[kc - 1] * c[k]
      let t2 = cosines[k - 1] * c[k] - cosines[kc - 1] * c[kc]
      c[k] = 0.5 * (t1 + t2)
      c[kc] = 0.5 * (t1 - t2)
      k += 1
      kc -= 1
    }
    if n & 1 == 0 { c[half] *= cosines[half - 1] }
  }

  /// pocketfft's `rfftp::exec(c, 1, false)`: passes in factor order, ping-ponging buffers.
  private func backwardRealFFT(_ c: inout [Double], _ scratch: inout [Double]) {
    var inC = true
    var l1 = 1
    for (index, ip) in factors.enumerated() {
      let ido = length / (ip * l1)
      if inC {
        pass(ip, ido: ido, l1: l1, input: c, output: &scratch, twiddle: twiddles[index])
      } else {
        pass(ip, ido: ido, l1: l1, input: scratch, output: &c, twiddle: twiddles[index])
      }
      inC.toggle()
      l1 *= ip
    }
    if !inC {
      for i in 0..<length { c[i] = scratch[i] }
    }
  }

  private func pass(
    _ ip: Int, ido: Int, l1: Int, input: [Double], output: inout [Double], twiddle: [Double]
  ) {
    if ip == 4 {
      radb4(ido: ido, l1: l1, cc: input, ch: &output, wa: twiddle)
    } else {
      radb2(ido: ido, l1: l1, cc: input, ch: &output, wa: twiddle)
    }
  }

  private func radb2(ido: Int, l1: Int, cc: [Double], ch: inout [Double], wa: [Double]) {
    @inline(__always) func CC(_ a: Int, _ b: Int, _ c: Int) -> Double { cc[a + ido * (b + 2 * c)] }
    @inline(__always) func CH(_ a: Int, _ b: Int, _ c: Int) -> Int { a + ido * (b + l1 * c) }
    @inline(__always) func WA(_ x: Int, _ i: Int) -> Double { wa[i + x * (ido - 1)] }

    for k in 0..<l1 {
      let a = CC(0, 0, k)
      let b = CC(ido - 1, 1, k)
      ch[CH(0, k, 0)] = a + b
      ch[CH(0, k, 1)] = a - b
    }
    if ido & 1 == 0 {
      for k in 0..<l1 {
        ch[CH(ido - 1, k, 0)] = 2 * CC(ido - 1, 0, k)
        ch[CH(ido - 1, k, 1)] = -2 * CC(0, 1, k)
      }
    }
    if ido <= 2 { return }
    for k in 0..<l1 {
      var i = 2
      while i < ido {
        let ic = ido - i
        ch[CH(i - 1, k, 0)] = CC(i - 1, 0, k) + CC(ic - 1, 1, k)
        let tr2 = CC(i - 1, 0, k) - CC(ic - 1, 1, k)
        let ti2 = CC(i, 0, k) + CC(ic, 1, k)
        ch[CH(i, k, 0)] = CC(i, 0, k) - CC(ic, 1, k)
        // MULPM(a, b, c, d, e, f): a = c e + d f, b = c f − d e
        let c = WA(0, i - 2)
        let d = WA(0, i - 1)
        ch[CH(i, k, 1)] = c * ti2 + d * tr2
        ch[CH(i - 1, k, 1)] = c * tr2 - d * ti2
        i += 2
      }
    }
  }

  private func radb4(ido: Int, l1: Int, cc: [Double], ch: inout [Double], wa: [Double]) {
    let sqrt2 = 2.0.squareRoot()
    @inline(__always) func CC(_ a: Int, _ b: Int, _ c: Int) -> Double { cc[a + ido * (b + 4 * c)] }
    @inline(__always) func CH(_ a: Int, _ b: Int, _ c: Int) -> Int { a + ido * (b + l1 * c) }
    @inline(__always) func WA(_ x: Int, _ i: Int) -> Double { wa[i + x * (ido - 1)] }

    for k in 0..<l1 {
      let tr2 = CC(0, 0, k) + CC(ido - 1, 3, k)
      let tr1 = CC(0, 0, k) - CC(ido - 1, 3, k)
      let tr3 = 2 * CC(ido - 1, 1, k)
      let tr4 = 2 * CC(0, 2, k)
      ch[CH(0, k, 0)] = tr2 + tr3
      ch[CH(0, k, 2)] = tr2 - tr3
      ch[CH(0, k, 3)] = tr1 + tr4
      ch[CH(0, k, 1)] = tr1 - tr4
    }
    if ido & 1 == 0 {
      for k in 0..<l1 {
        let ti1 = CC(0, 3, k) + CC(0, 1, k)
        let ti2 = CC(0, 3, k) - CC(0, 1, k)
        let tr2 = CC(ido - 1, 0, k) + CC(ido - 1, 2, k)
        let tr1 = CC(ido - 1, 0, k) - CC(ido - 1, 2, k)
        ch[CH(ido - 1, k, 0)] = tr2 + tr2
        ch[CH(ido - 1, k, 1)] = sqrt2 * (tr1 - ti1)
        ch[CH(ido - 1, k, 2)] = ti2 + ti2
        ch[CH(ido - 1, k, 3)] = -sqrt2 * (tr1 + ti1)
      }
    }
    if ido <= 2 { return }
    for k in 0..<l1 {
      var i = 2
      while i < ido {
        let ic = ido - i
        let tr2 = CC(i - 1, 0, k) + CC(ic - 1, 3, k)
        let tr1 = CC(i - 1, 0, k) - CC(ic - 1, 3, k)
        let ti1 = CC(i, 0, k) + CC(ic, 3, k)
        let ti2 = CC(i, 0, k) - CC(ic, 3, k)
        let tr4 = CC(i, 2, k) + CC(ic, 1, k)
        let ti3 = CC(i, 2, k) - CC(ic, 1, k)
        let tr3 = CC(i - 1, 2, k) + CC(ic - 1, 1, k)
        let ti4 = CC(i - 1, 2, k) - CC(ic - 1, 1, k)
        ch[CH(i - 1, k, 0)] = tr2 + tr3
        let cr3 = tr2 - tr3
        ch[CH(i, k, 0)] = ti2 + ti3
        let ci3 = ti2 - ti3
        let cr4 = tr1 + tr4
        let cr2 = tr1 - tr4
        let ci2 = ti1 + ti4
        let ci4 = ti1 - ti4
        var c = WA(0, i - 2)
        var d = WA(0, i - 1)
        ch[CH(i, k, 1)] = c * ci2 + d * cr2
        ch[CH(i - 1, k, 1)] = c * cr2 - d * ci2
        c = WA(1, i - 2)
        d = WA(1, i - 1)
        ch[CH(i, k, 2)] = c * ci3 + d * cr3
        ch[CH(i - 1, k, 2)] = c * cr3 - d * ci3
        c = WA(2, i - 2)
        d = WA(2, i - 1)
        ch[CH(i, k, 3)] = c * ci4 + d * cr4
        ch[CH(i - 1, k, 3)] = c * cr4 - d * ci4
        i += 2
      }
    }
  }
}

/// The n-th roots of unity e^(2πik/n) as pocketfft's `sincos_2pibyn` computes them: sines and
/// cosines of angles within the first octant, combined from two tables (fine and coarse steps)
/// by a complex product.
struct UnitRoots {
  let n: Int
  private let shift: Int
  private let mask: Int
  private let fine: [(r: Double, i: Double)]
  private let coarse: [(r: Double, i: Double)]

  init(_ n: Int) {
    self.n = n
    // 0.25·π/n in long double, rounded to double: exact for power-of-two n (pocketfft computes
    // it in long double; dividing by a power of two commutes with the rounding).
    let angle = 0.25 * Double.pi / Double(n)
    let count = (n + 2) / 2
    var shift = 1
    while (1 << shift) * (1 << shift) < count { shift += 1 }
    let mask = (1 << shift) - 1
    var fine: [(r: Double, i: Double)] = [(1, 0)]
    for i in 1..<(mask + 1) { fine.append(Self.calc(i, n, angle)) }
    var coarse: [(r: Double, i: Double)] = [(1, 0)]
    let coarseCount = (count + mask) / (mask + 1)
    if coarseCount > 1 {
      for i in 1..<coarseCount { coarse.append(Self.calc(i * (mask + 1), n, angle)) }
    }
    self.shift = shift
    self.mask = mask
    self.fine = fine
    self.coarse = coarse
  }

  subscript(index: Int) -> (r: Double, i: Double) {
    if 2 * index <= n {
      let x1 = fine[index & mask]
      let x2 = coarse[index >> shift]
      return (x1.r * x2.r - x1.i * x2.i, x1.r * x2.i + x1.i * x2.r)
    }
    let mirrored = n - index
    let x1 = fine[mirrored & mask]
    let x2 = coarse[mirrored >> shift]
    return (x1.r * x2.r - x1.i * x2.i, -(x1.r * x2.i + x1.i * x2.r))
  }

  /// One root from the octant it falls in (pocketfft's `calc`).
  private static func calc(_ index: Int, _ n: Int, _ angle: Double) -> (r: Double, i: Double) {
    var x = index << 3
    if x < 4 * n {
      if x < 2 * n {
        if x < n { return (cos(Double(x) * angle), sin(Double(x) * angle)) }
        return (sin(Double(2 * n - x) * angle), cos(Double(2 * n - x) * angle))
      }
      x -= 2 * n
      if x < n { return (-sin(Double(x) * angle), cos(Double(x) * angle)) }
      return (-cos(Double(2 * n - x) * angle), sin(Double(2 * n - x) * angle))
    }
    x = 8 * n - x
    if x < 2 * n {
      if x < n { return (cos(Double(x) * angle), -sin(Double(x) * angle)) }
      return (sin(Double(2 * n - x) * angle), -cos(Double(2 * n - x) * angle))
    }
    x -= 2 * n
    if x < n { return (-sin(Double(x) * angle), -cos(Double(x) * angle)) }
    return (-cos(Double(2 * n - x) * angle), -sin(Double(2 * n - x) * angle))
  }
}
