// Forward and backward kernels of the blocks TroL is made of, generic over the scalar type.
//
// Legend: N rows (tokens), D / C widths, y = f(x), dy the upstream gradient, dx what flows back.
// Gradients are always accumulated (+=) into their destination unless a function says otherwise,
// so two uses of one weight (TroL's two passes) simply add up.

/// y[N, out] = x[N, in]·Wᵀ (+ y when `accumulate`).
@inline(__always)
func matmulForward<T: Real>(
  _ x: UnsafePointer<T>, _ w: UnsafePointer<T>, rows: Int, out: Int, in inF: Int,
  into y: UnsafeMutablePointer<T>, accumulate: Bool = false
) {
  T.gemm(
    transA: false, transB: true, m: rows, n: out, k: inF, alpha: 1, x, lda: inF, w, ldb: inF,
    beta: accumulate ? 1 : 0, y, ldc: out)
}

/// dx[N, in] += dy[N, out]·W.
@inline(__always)
func matmulBackwardInput<T: Real>(
  _ dy: UnsafePointer<T>, _ w: UnsafePointer<T>, rows: Int, out: Int, in inF: Int,
  into dx: UnsafeMutablePointer<T>, accumulate: Bool = true, alpha: T = 1
) {
  T.gemm(
    transA: false, transB: false, m: rows, n: inF, k: out, alpha: alpha, dy, lda: out, w, ldb: inF,
    beta: accumulate ? 1 : 0, dx, ldc: inF)
}

/// dW[out, in] += dyᵀ·x.
@inline(__always)
func matmulBackwardWeight<T: Real>(
  _ dy: UnsafePointer<T>, _ x: UnsafePointer<T>, rows: Int, out: Int, in inF: Int,
  into dw: UnsafeMutablePointer<T>, alpha: T = 1
) {
  T.gemm(
    transA: true, transB: false, m: out, n: inF, k: rows, alpha: alpha, dy, lda: out, x, ldb: inF,
    beta: 1, dw, ldc: inF)
}

/// y[r] += b for every row.
func addBiasRows<T: Real>(_ y: UnsafeMutablePointer<T>, _ b: UnsafePointer<T>, rows: Int, dim: Int)
{
  for r in 0..<rows {
    let row = y + r * dim
    for i in 0..<dim { row[i] += b[i] }
  }
}

/// db += Σ_rows dy.
func biasBackward<T: Real>(
  _ dy: UnsafePointer<T>, rows: Int, dim: Int, into db: UnsafeMutablePointer<T>
) {
  for r in 0..<rows {
    let row = dy + r * dim
    for i in 0..<dim { db[i] += row[i] }
  }
}

// MARK: RMSNorm

/// y = x / sqrt(mean(x²) + eps) ⊙ w; stores 1/sqrt(...) per row in `inverse`.
func rmsNormForward<T: Real>(
  _ x: UnsafePointer<T>, weight: UnsafePointer<T>, rows: Int, dim: Int, eps: T,
  into y: UnsafeMutablePointer<T>, inverse: UnsafeMutablePointer<T>
) {
  for r in 0..<rows {
    let xr = x + r * dim
    let yr = y + r * dim
    var sum: T = 0
    for i in 0..<dim { sum += xr[i] * xr[i] }
    let inv = 1 / (sum / T(dim) + eps).squareRoot()
    inverse[r] = inv
    for i in 0..<dim { yr[i] = xr[i] * inv * weight[i] }
  }
}

/// dx += r·(dy⊙w) − x·r³/D·Σ(dy⊙w⊙x); dw += Σ_rows dy⊙x·r when `dWeight` is given.
func rmsNormBackward<T: Real>(
  _ dy: UnsafePointer<T>, x: UnsafePointer<T>, weight: UnsafePointer<T>,
  inverse: UnsafePointer<T>, rows: Int, dim: Int, into dx: UnsafeMutablePointer<T>,
  dWeight: UnsafeMutablePointer<T>?
) {
  for r in 0..<rows {
    let xr = x + r * dim
    let gr = dy + r * dim
    let dr = dx + r * dim
    let inv = inverse[r]
    var dot: T = 0
    for i in 0..<dim { dot += gr[i] * weight[i] * xr[i] }
    let k = dot * inv * inv * inv / T(dim)
    for i in 0..<dim { dr[i] += gr[i] * weight[i] * inv - xr[i] * k }
    if let dWeight { for i in 0..<dim { dWeight[i] += gr[i] * xr[i] * inv } }
  }
}

// MARK: LayerNorm

/// y = (x − mean)·r ⊙ w + b with the biased variance; stores x̂ and r per row.
func layerNormForward<T: Real>(
  _ x: UnsafePointer<T>, weight: UnsafePointer<T>, bias: UnsafePointer<T>, rows: Int, dim: Int,
  eps: T, into y: UnsafeMutablePointer<T>, normalized: UnsafeMutablePointer<T>,
  inverse: UnsafeMutablePointer<T>
) {
  for r in 0..<rows {
    let xr = x + r * dim
    var mean: T = 0
    for i in 0..<dim { mean += xr[i] }
    mean /= T(dim)
    var variance: T = 0
    for i in 0..<dim { variance += (xr[i] - mean) * (xr[i] - mean) }
    let inv = 1 / (variance / T(dim) + eps).squareRoot()
    inverse[r] = inv
    for i in 0..<dim {
      let n = (xr[i] - mean) * inv
      normalized[r * dim + i] = n
      y[r * dim + i] = n * weight[i] + bias[i]
    }
  }
}

/// dx += r·(g − mean(g) − x̂·mean(g⊙x̂)) with g = dy⊙w; dw += Σ dy⊙x̂, db += Σ dy.
func layerNormBackward<T: Real>(
  _ dy: UnsafePointer<T>, normalized: UnsafePointer<T>, weight: UnsafePointer<T>,
  inverse: UnsafePointer<T>, rows: Int, dim: Int, into dx: UnsafeMutablePointer<T>?,
  dWeight: UnsafeMutablePointer<T>?, dBias: UnsafeMutablePointer<T>?
) {
  for r in 0..<rows {
    let gr = dy + r * dim
    let nr = normalized + r * dim
    var meanG: T = 0
    var meanGN: T = 0
    for i in 0..<dim {
      let g = gr[i] * weight[i]
      meanG += g
      meanGN += g * nr[i]
    }
    meanG /= T(dim)
    meanGN /= T(dim)
    if let dx {
      let dr = dx + r * dim
      for i in 0..<dim { dr[i] += inverse[r] * (gr[i] * weight[i] - meanG - nr[i] * meanGN) }
    }
    if let dWeight { for i in 0..<dim { dWeight[i] += gr[i] * nr[i] } }
    if let dBias { for i in 0..<dim { dBias[i] += gr[i] } }
  }
}

// MARK: Activations

/// GELU with the exact error function, in place; `x` keeps a copy of the input in `input`.
func geluForward<T: Real>(_ input: UnsafePointer<T>, count: Int, into y: UnsafeMutablePointer<T>) {
  let k = T(0.707_106_781_186_547_6)
  for i in 0..<count {
    let v = input[i]
    y[i] = T(0.5) * v * (1 + T.errorFunction(v * k))
  }
}

/// dx = dy·(Φ(x) + x·φ(x)), written (not accumulated) into dx.
func geluBackward<T: Real>(
  _ dy: UnsafePointer<T>, input: UnsafePointer<T>, count: Int, into dx: UnsafeMutablePointer<T>
) {
  let k = T(0.707_106_781_186_547_6)
  let c = T(0.398_942_280_401_432_7)  // 1/√(2π)
  for i in 0..<count {
    let v = input[i]
    let cdf = T(0.5) * (1 + T.errorFunction(v * k))
    let pdf = c * T.expo(-T(0.5) * v * v)
    dx[i] = dy[i] * (cdf + v * pdf)
  }
}

/// CLIP's quick_gelu: y = x·σ(1.702x).
func quickGELUForward<T: Real>(
  _ input: UnsafePointer<T>, count: Int, into y: UnsafeMutablePointer<T>
) {
  let k = T(1.702)
  for i in 0..<count {
    let v = input[i]
    y[i] = v / (1 + T.expo(-k * v))
  }
}

/// dx = dy·(σ(1.702x) + 1.702·x·σ(1.702x)(1 − σ(1.702x))), written into dx.
func quickGELUBackward<T: Real>(
  _ dy: UnsafePointer<T>, input: UnsafePointer<T>, count: Int, into dx: UnsafeMutablePointer<T>
) {
  let k = T(1.702)
  for i in 0..<count {
    let v = input[i]
    let s = 1 / (1 + T.expo(-k * v))
    dx[i] = dy[i] * (s + k * v * s * (1 - s))
  }
}

/// m = silu(g) ⊙ u.
func swiGLUForward<T: Real>(
  gate: UnsafePointer<T>, up: UnsafePointer<T>, count: Int, into m: UnsafeMutablePointer<T>
) {
  for i in 0..<count {
    let g = gate[i]
    m[i] = g / (1 + T.expo(-g)) * up[i]
  }
}

/// dg = dm·u·silu'(g), du = dm·silu(g) (written, not accumulated).
func swiGLUBackward<T: Real>(
  _ dm: UnsafePointer<T>, gate: UnsafePointer<T>, up: UnsafePointer<T>, count: Int,
  dGate: UnsafeMutablePointer<T>, dUp: UnsafeMutablePointer<T>
) {
  for i in 0..<count {
    let g = gate[i]
    let s = 1 / (1 + T.expo(-g))
    let silu = g * s
    dUp[i] = dm[i] * silu
    dGate[i] = dm[i] * up[i] * s * (1 + g * (1 - s))
  }
}

// MARK: Rotary embedding

/// cos (first half) and sin (second half) tables [positions, Dh], from f32 inverse frequencies as
/// the reference computes them: angle = p·invFreq in the run's precision, cos and sin times
/// `magnitude` (Phi-3 LongRoPE). Row r is position `rowPositions[r]` when given, else r.
func ropeTable<T: Real>(
  inverseFrequencies: [Float], magnitude: Float, positions: Int, rowPositions: [Int]? = nil,
  into table: UnsafeMutablePointer<T>
) {
  let half = inverseFrequencies.count
  let Dh = 2 * half
  for r in 0..<positions {
    let p = rowPositions?[r] ?? r
    for i in 0..<half {
      let angle = T(p) * T(inverseFrequencies[i])
      table[r * Dh + i] = T.cosine(angle) * T(magnitude)
      table[r * Dh + half + i] = T.sine(angle) * T(magnitude)
    }
  }
}

/// Rotates `heads` heads of every row in place (rotate-half convention): x·cos + rotate_half(x)·sin;
/// `inverse` applies the transpose (the backward of the rotation).
func ropeApply<T: Real>(
  _ x: UnsafeMutablePointer<T>, rows: Int, rowStride: Int, heads: Int, headDim Dh: Int,
  table: UnsafePointer<T>, inverse: Bool = false
) {
  let half = Dh / 2
  for r in 0..<rows {
    let t = table + r * Dh
    for h in 0..<heads {
      let head = x + r * rowStride + h * Dh
      for i in 0..<half {
        let c = t[i]
        let s = inverse ? -t[half + i] : t[half + i]
        let x1 = head[i]
        let x2 = head[half + i]
        head[i] = x1 * c - x2 * s
        head[half + i] = x2 * c + x1 * s
      }
    }
  }
}

// MARK: Causal attention

/// Causal multi-head attention with grouped key/value heads over one sequence.
///
/// q [N, H·Dh], k and v [N, Hkv·Dh] (rotated), output o [N, H·Dh]; probabilities P [H, N, N] are
/// kept for the backward. With a `mask` (a packed sample), a causal row also skips the columns
/// the mask hides from it (they get probability 0, which is all the backward needs).
func attentionForward<T: Real>(
  q: UnsafePointer<T>, k: UnsafePointer<T>, v: UnsafePointer<T>, rows N: Int, heads H: Int,
  kvHeads Hkv: Int, headDim Dh: Int, causal: Bool, mask: AttentionMask? = nil,
  probabilities P: UnsafeMutablePointer<T>, output o: UnsafeMutablePointer<T>
) {
  let scale = 1 / T(Dh).squareRoot()
  forEachHead(heads: H, kvHeads: Hkv) { h, j in
    let s = P + h * N * N
    T.gemm(
      transA: false, transB: true, m: N, n: N, k: Dh, alpha: scale, q + h * Dh, lda: H * Dh,
      k + j * Dh, ldb: Hkv * Dh, beta: 0, s, ldc: N)
    for r in 0..<N {
      let row = s + r * N
      let last = causal ? r : N - 1
      // Hidden columns [hiddenFrom, hiddenTo): another question's rows in a packed sample.
      let hidden = mask?.hidden(row: r) ?? 0..<0
      var m = row[last]
      for c in 0...last where row[c] > m && !hidden.contains(c) { m = row[c] }
      var sum: T = 0
      for c in 0...last {
        if hidden.contains(c) {
          row[c] = 0
          continue
        }
        let e = T.expo(row[c] - m)
        row[c] = e
        sum += e
      }
      let inv = 1 / sum
      for c in 0...last { row[c] *= inv }
      if last + 1 < N { for c in (last + 1)..<N { row[c] = 0 } }
    }
    T.gemm(
      transA: false, transB: false, m: N, n: Dh, k: N, alpha: 1, s, lda: N, v + j * Dh,
      ldb: Hkv * Dh, beta: 0, o + h * Dh, ldc: H * Dh)
  }
}

/// Calls `body(h, j)` for each query head h and the key/value head j it reads: consecutive
/// groups of H / Hkv query heads share one (grouped-query attention).
@inline(__always)
private func forEachHead(heads H: Int, kvHeads Hkv: Int, _ body: (_ h: Int, _ j: Int) -> Void) {
  let G = H / Hkv
  for h in 0..<H { body(h, h / G) }
}

/// dq, dk, dv (+=) from do; `scratch` holds N·N scalars.
func attentionBackward<T: Real>(
  dOut: UnsafePointer<T>, q: UnsafePointer<T>, k: UnsafePointer<T>, v: UnsafePointer<T>,
  probabilities P: UnsafePointer<T>, rows N: Int, heads H: Int, kvHeads Hkv: Int, headDim Dh: Int,
  dq: UnsafeMutablePointer<T>, dk: UnsafeMutablePointer<T>, dv: UnsafeMutablePointer<T>,
  scratch dP: UnsafeMutablePointer<T>
) {
  let scale = 1 / T(Dh).squareRoot()
  forEachHead(heads: H, kvHeads: Hkv) { h, j in
    let p = P + h * N * N
    // dV_j += Pᵀ·dO_h
    T.gemm(
      transA: true, transB: false, m: N, n: Dh, k: N, alpha: 1, p, lda: N, dOut + h * Dh,
      ldb: H * Dh, beta: 1, dv + j * Dh, ldc: Hkv * Dh)
    // dP = dO_h·V_jᵀ
    T.gemm(
      transA: false, transB: true, m: N, n: N, k: Dh, alpha: 1, dOut + h * Dh, lda: H * Dh,
      v + j * Dh, ldb: Hkv * Dh, beta: 0, dP, ldc: N)
    // dS = P ⊙ (dP − Σ P⊙dP), in place in dP (masked entries have P = 0).
    for r in 0..<N {
      let pr = p + r * N
      let dr = dP + r * N
      var dot: T = 0
      for c in 0..<N { dot += pr[c] * dr[c] }
      for c in 0..<N { dr[c] = pr[c] * (dr[c] - dot) }
    }
    // dQ_h += scale·dS·K_j;  dK_j += scale·dSᵀ·Q_h
    T.gemm(
      transA: false, transB: false, m: N, n: Dh, k: N, alpha: scale, dP, lda: N, k + j * Dh,
      ldb: Hkv * Dh, beta: 1, dq + h * Dh, ldc: H * Dh)
    T.gemm(
      transA: true, transB: false, m: N, n: Dh, k: N, alpha: scale, dP, lda: N, q + h * Dh,
      ldb: H * Dh, beta: 1, dk + j * Dh, ldc: Hkv * Dh)
  }
}

// MARK: Cross-entropy

/// Mean cross-entropy of `rows` logits rows against `targets`, each row's loss divided by
/// `normalizer`; writes d loss / d logits (softmax − one-hot)/normalizer over the logits in place
/// and returns the summed (not yet divided) per-row losses.
func crossEntropy<T: Real>(
  _ logits: UnsafeMutablePointer<T>, rows: Int, vocabulary V: Int, targets: [Int], normalizer: T,
  perRow: inout [Double]
) -> Double {
  var total: Double = 0
  for r in 0..<rows {
    let row = logits + r * V
    var m = row[0]
    for c in 1..<V where row[c] > m { m = row[c] }
    let shifted = row[targets[r]] - m
    var sum: T = 0
    for c in 0..<V {
      let e = T.expo(row[c] - m)
      row[c] = e
      sum += e
    }
    let loss = T.logarithm(sum) - shifted
    perRow.append(Double(loss))
    total += Double(loss)
    let inv = 1 / sum
    for c in 0..<V { row[c] = row[c] * inv / normalizer }
    row[targets[r]] -= 1 / normalizer
  }
  return total
}
