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

/// Scaled dot-product attention through BLAS: for each head, scores = scale·Q·Kᵀ (sgemm, or sgemv
/// for a single query), masked softmax per row in f32, then P·V.
///
/// - Parameters:
///   - output: receives T rows; head h of row t at `output.base + t·rowStride + h·headStride`.
///   - scores: scratch of at least T·S floats.
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

/// Attention over keys/values split into chunks (their counts sum to `shape.keys`): the scores of
/// all chunks form one softmax row, and the outputs of the chunks are summed.
///
/// - Parameters:
///   - scores: scratch of at least T·S floats.
public func attention(
  query: AttentionOperand, chunks: UnsafeBufferPointer<KeyValueChunk>, output: AttentionOperand,
  shape: AttentionShape, scores: UnsafeMutablePointer<Float>
) {
  let T = shape.queries
  let S = shape.keys
  let Dh = shape.headDim
  let group = shape.heads / shape.keyValueHeads
  let offset = S - T
  precondition(
    chunks.reduce(0) { $0 + $1.count } == S, "attention: chunks do not add up to \(S) keys")
  for h in 0..<shape.heads {
    let kvHead = h / group
    let q = query.head(h)
    let out = output.head(h)
    if T == 1 {
      var start = 0
      for chunk in chunks where chunk.count > 0 {
        // scores[start ..< start + n] = scale · K[n, Dh] · q
        cblas_sgemv(
          CblasRowMajor, CblasNoTrans, Int32(chunk.count), Int32(Dh), shape.scale,
          chunk.key.head(kvHead),
          Int32(chunk.key.rowStride), q, 1, 0, scores + start, 1)
        start += chunk.count
      }
      softmax(scores, count: S)
      start = 0
      for chunk in chunks where chunk.count > 0 {
        // out[Dh] (+)= Vᵀ[Dh, n] · p[start ..< start + n]
        cblas_sgemv(
          CblasRowMajor, CblasTrans, Int32(chunk.count), Int32(Dh), 1, chunk.value.head(kvHead),
          Int32(chunk.value.rowStride), scores + start, 1, start == 0 ? 0 : 1, out, 1)
        start += chunk.count
      }
      continue
    }
    var start = 0
    for chunk in chunks where chunk.count > 0 {
      // scores[T, start ..< start + n] = scale · Q[T, Dh] · Kᵀ
      cblas_sgemm(
        CblasRowMajor, CblasNoTrans, CblasTrans, Int32(T), Int32(chunk.count), Int32(Dh),
        shape.scale, q,
        Int32(query.rowStride), chunk.key.head(kvHead), Int32(chunk.key.rowStride), 0,
        scores + start,
        Int32(S))
      start += chunk.count
    }
    for t in 0..<T {
      let row = scores + t * S
      let visible = shape.causal ? offset + t + 1 : S
      softmax(row, count: visible)
      if visible < S { (row + visible).update(repeating: 0, count: S - visible) }
    }
    start = 0
    for chunk in chunks where chunk.count > 0 {
      // out[T, Dh] (+)= P[T, start ..< start + n] · V[n, Dh]
      cblas_sgemm(
        CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(T), Int32(Dh), Int32(chunk.count), 1,
        scores + start,
        Int32(S), chunk.value.head(kvHead), Int32(chunk.value.rowStride), start == 0 ? 0 : 1, out,
        Int32(output.rowStride))
      start += chunk.count
    }
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
