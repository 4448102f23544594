internal import COpenBLAS
internal import Foundation

/// Where one operand of an attention call lives: a base pointer, the distance between consecutive
/// tokens, and the distance between consecutive heads (all in floats).
///
/// A KV cache stored [heads, capacity, Dh] has rowStride Dh and headStride capacity·Dh; a packed
/// [tokens, heads·Dh] activation has rowStride heads·Dh (or more) and headStride Dh.
public struct AttentionOperand {
  public var base: UnsafeMutablePointer<Float>
  public var rowStride: Int
  public var headStride: Int

  public init(base: UnsafeMutablePointer<Float>, rowStride: Int, headStride: Int) {
    self.base = base
    self.rowStride = rowStride
    self.headStride = headStride
  }

  @inlinable func head(_ h: Int) -> UnsafeMutablePointer<Float> { base + h * headStride }
}

/// The shape of one attention call: T queries against S keys, H query heads sharing Hkv key/value
/// heads (grouped-query attention: query head h reads key head h / (H / Hkv)).
public struct AttentionShape {
  /// T: query tokens.
  public var queries: Int
  /// S: key/value tokens available.
  public var keys: Int
  /// H: query heads.
  public var heads: Int
  /// Hkv: key/value heads; divides H.
  public var keyValueHeads: Int
  /// Dh.
  public var headDim: Int
  /// Causal masking: query t may see keys 0 ... S − T + t (the queries are the last T positions).
  /// When false every query sees all S keys (vision encoders).
  public var causal: Bool
  /// The factor applied to q·k (usually 1/√Dh).
  public var scale: Float

  public init(
    queries: Int, keys: Int, heads: Int, keyValueHeads: Int, headDim: Int, causal: Bool,
    scale: Float
  ) {
    precondition(
      heads % keyValueHeads == 0, "attention: \(heads) heads over \(keyValueHeads) kv heads")
    precondition(
      !causal || keys >= queries, "attention: causal with \(queries) queries over \(keys) keys")
    self.queries = queries
    self.keys = keys
    self.heads = heads
    self.keyValueHeads = keyValueHeads
    self.headDim = headDim
    self.causal = causal
    self.scale = scale
  }
}

/// A run of consecutive key/value positions stored together (a shared prefix cache, or a sequence's
/// own cache). Attention reads the chunks in order as one sequence of `count` positions each.
public struct KeyValueChunk {
  public var key: AttentionOperand
  public var value: AttentionOperand
  public var count: Int

  public init(key: AttentionOperand, value: AttentionOperand, count: Int) {
    self.key = key
    self.value = value
    self.count = count
  }
}

/// Floats of `scores` scratch an attention call of this shape needs: a row of S per query, and
/// at least one per head (a single query runs its heads in parallel, each on its own row).
public func attentionScoresCount(_ shape: AttentionShape) -> Int {
  max(shape.queries, shape.heads) * shape.keys
}

/// Scaled dot-product attention: for each head, scores = scale·Q·Kᵀ, masked softmax per row in
/// f32, then P·V.
///
/// - Parameters:
///   - output: receives T rows; head h of row t at `output.base + t·rowStride + h·headStride`.
///   - scores: scratch of at least `attentionScoresCount(shape)` floats.
public func attention(
  query: AttentionOperand, key: AttentionOperand, value: AttentionOperand, output: AttentionOperand,
  shape: AttentionShape, scores: UnsafeMutablePointer<Float>
) {
  var chunk = KeyValueChunk(key: key, value: value, count: shape.keys)
  withUnsafePointer(to: &chunk) { pointer in
    attention(
      query: query, chunks: UnsafeBufferPointer(start: pointer, count: 1), output: output,
      shape: shape,
      scores: scores)
  }
}

/// Query rows per block of a causal prompt: block b attends to the keys its last row can see,
/// so the masked upper triangle is (mostly) never computed. 256 rows keep each product large
/// enough for sgemm to run near its peak (docs/benchmarks.md, Engine).
let attentionQueryBlock = 256

/// Attention over keys/values split into chunks (their counts sum to `shape.keys`): the scores of
/// all chunks form one softmax row, and the outputs of the chunks are summed.
///
/// A single query (a decode step) runs on our SIMD kernels, heads split across threads; a prompt
/// runs through sgemm in blocks of query rows, each over the keys that block can see, with the
/// softmax rows split across threads. Both give every row the same result whatever the other rows
/// and however the keys are chunked (up to float summation order).
///
/// - Parameters:
///   - scores: scratch of at least `attentionScoresCount(shape)` floats.
public func attention(
  query: AttentionOperand, chunks: UnsafeBufferPointer<KeyValueChunk>, output: AttentionOperand,
  shape: AttentionShape, scores: UnsafeMutablePointer<Float>
) {
  precondition(
    chunks.reduce(0) { $0 + $1.count } == shape.keys,
    "attention: chunks do not add up to \(shape.keys) keys")
  if shape.queries == 1 {
    singleQueryAttention(
      query: query, chunks: chunks, output: output, shape: shape, scores: scores)
    return
  }
  let T = shape.queries
  let S = shape.keys
  let Dh = shape.headDim
  let group = shape.heads / shape.keyValueHeads
  let offset = S - T
  let block = shape.causal ? attentionQueryBlock : T
  for h in 0..<shape.heads {
    let kvHead = h / group
    var t0 = 0
    while t0 < T {
      let rows = min(block, T - t0)
      // Keys visible to the block's last row; the block's scores are [rows, visible].
      let visible = shape.causal ? offset + t0 + rows : S
      let q = query.head(h) + t0 * query.rowStride
      var start = 0
      TensorThreads.yieldToBLAS()
      for chunk in chunks where chunk.count > 0 && start < visible {
        let n = min(chunk.count, visible - start)
        // scores[rows, start ..< start + n] = scale · Q[rows, Dh] · Kᵀ
        cblas_sgemm(
          CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(n), Int32(Dh),
          shape.scale, q, Int32(query.rowStride), chunk.key.head(kvHead),
          Int32(chunk.key.rowStride), 0, scores + start, Int32(visible))
        start += chunk.count
      }
      TensorThreads.parallelRanges(rows, granule: 1, minimumPerThread: 8) { range in
        for i in range {
          let row = scores + i * visible
          let seen = shape.causal ? offset + t0 + i + 1 : visible
          softmax(row, count: seen)
          if seen < visible { (row + seen).update(repeating: 0, count: visible - seen) }
        }
      }
      start = 0
      TensorThreads.yieldToBLAS()
      for chunk in chunks where chunk.count > 0 && start < visible {
        let n = min(chunk.count, visible - start)
        // out[rows, Dh] (+)= P[rows, start ..< start + n] · V[n, Dh]
        cblas_sgemm(
          CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(Dh), Int32(n), 1,
          scores + start, Int32(visible), chunk.value.head(kvHead), Int32(chunk.value.rowStride),
          start == 0 ? 0 : 1, output.head(h) + t0 * output.rowStride, Int32(output.rowStride))
        start += chunk.count
      }
      t0 += rows
    }
  }
}

/// One query (a decode step): each head's scores, softmax and weighted sum of values, with the
/// heads split across threads and each head using its own row of `scores`. Written on SIMD
/// rather than sgemv: a decode step then makes no BLAS call, so no BLAS thread spins for work
/// while our kernels run on the other cores.
func singleQueryAttention(
  query: AttentionOperand, chunks: UnsafeBufferPointer<KeyValueChunk>, output: AttentionOperand,
  shape: AttentionShape, scores: UnsafeMutablePointer<Float>
) {
  let S = shape.keys
  let Dh = shape.headDim
  let group = shape.heads / shape.keyValueHeads
  let minimumHeads = S * Dh >= 1 << 14 ? 1 : shape.heads
  TensorThreads.parallelRanges(shape.heads, granule: 1, minimumPerThread: minimumHeads) { heads in
    for h in heads {
      let kvHead = h / group
      let q = query.head(h)
      let row = scores + h * S
      var start = 0
      for chunk in chunks where chunk.count > 0 {
        scaledDots(
          q, chunk.key.head(kvHead), rowStride: chunk.key.rowStride, count: chunk.count,
          width: Dh, scale: shape.scale, into: row + start)
        start += chunk.count
      }
      softmax(row, count: S)
      let out = output.head(h)
      out.update(repeating: 0, count: Dh)
      start = 0
      for chunk in chunks where chunk.count > 0 {
        let v = chunk.value.head(kvHead)
        for j in 0..<chunk.count {
          addScaled(out, v + j * chunk.value.rowStride, row[start + j], count: Dh)
        }
        start += chunk.count
      }
    }
  }
}

/// into[j] = scale · (q · k_j) for `count` keys `rowStride` floats apart, four keys at a time so
/// four independent FMA chains hide the latency.
@inline(__always)
func scaledDots(
  _ q: UnsafePointer<Float>, _ k: UnsafePointer<Float>, rowStride: Int, count: Int, width: Int,
  scale: Float, into result: UnsafeMutablePointer<Float>
) {
  let width8 = width & ~7
  var j = 0
  while j + 4 <= count {
    let k0 = k + j * rowStride
    let k1 = k0 + rowStride
    let k2 = k1 + rowStride
    let k3 = k2 + rowStride
    var a0 = SIMD8<Float>()
    var a1 = SIMD8<Float>()
    var a2 = SIMD8<Float>()
    var a3 = SIMD8<Float>()
    var d = 0
    while d < width8 {
      let x = ld8(q + d)
      a0.addProduct(x, ld8(k0 + d))
      a1.addProduct(x, ld8(k1 + d))
      a2.addProduct(x, ld8(k2 + d))
      a3.addProduct(x, ld8(k3 + d))
      d += 8
    }
    var s0 = a0.sum()
    var s1 = a1.sum()
    var s2 = a2.sum()
    var s3 = a3.sum()
    while d < width {
      s0 += q[d] * k0[d]
      s1 += q[d] * k1[d]
      s2 += q[d] * k2[d]
      s3 += q[d] * k3[d]
      d += 1
    }
    result[j] = s0 * scale
    result[j + 1] = s1 * scale
    result[j + 2] = s2 * scale
    result[j + 3] = s3 * scale
    j += 4
  }
  // The last keys one at a time, in the same order of operations as above, so a key's score does
  // not depend on where it falls in its chunk.
  while j < count {
    let k0 = k + j * rowStride
    var a0 = SIMD8<Float>()
    var d = 0
    while d < width8 {
      a0.addProduct(ld8(q + d), ld8(k0 + d))
      d += 8
    }
    var s0 = a0.sum()
    while d < width {
      s0 += q[d] * k0[d]
      d += 1
    }
    result[j] = s0 * scale
    j += 1
  }
}

/// y += a · x over `count` floats.
@inline(__always)
func addScaled(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ a: Float, count: Int)
{
  var i = 0
  while i + 8 <= count {
    st8(ld8(y + i) + a * ld8(x + i), y + i)
    i += 8
  }
  while i < count {
    y[i] += a * x[i]
    i += 1
  }
}

/// The reference attention with explicit loops in f64, used by tests. Operands as in `attention`.
public func attentionNaive(
  query: AttentionOperand, key: AttentionOperand, value: AttentionOperand, output: AttentionOperand,
  shape: AttentionShape
) {
  let T = shape.queries
  let S = shape.keys
  let Dh = shape.headDim
  let group = shape.heads / shape.keyValueHeads
  for h in 0..<shape.heads {
    for t in 0..<T {
      let visible = shape.causal ? S - T + t + 1 : S
      var weights = [Double](repeating: 0, count: visible)
      for j in 0..<visible {
        var s: Double = 0
        for d in 0..<Dh {
          s +=
            Double(query.head(h)[t * query.rowStride + d])
            * Double(key.head(h / group)[j * key.rowStride + d])
        }
        weights[j] = s * Double(shape.scale)
      }
      let maximum = weights.max()!
      var total: Double = 0
      for j in 0..<visible {
        weights[j] = exp(weights[j] - maximum)
        total += weights[j]
      }
      for d in 0..<Dh {
        var acc: Double = 0
        for j in 0..<visible {
          acc += weights[j] / total * Double(value.head(h / group)[j * value.rowStride + d])
        }
        output.head(h)[t * output.rowStride + d] = Float(acc)
      }
    }
  }
}

// Loads and stores for the kernels above, in this file so that builds without whole-module
// optimization (debug) inline them too: across files they stayed a call per vector.
@inline(__always)
private func ld8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
  UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always)
private func ld8(_ p: UnsafeMutablePointer<Float>) -> SIMD8<Float> {
  UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always)
private func st8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
  UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
}
