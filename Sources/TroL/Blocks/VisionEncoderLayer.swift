internal import Tensor

/// A pre-LayerNorm ViT encoder layer with bidirectional attention, shared by CLIP and InternViT:
///
///     h += ls1 ⊙ proj(Attn(norm1(h)));   h += ls2 ⊙ fc2(act(fc1(norm2(h))))
///
/// CLIP has no layer scale (ls = 1) and quick-GELU; InternViT has learned ls1/ls2 and exact GELU.
/// q, k and v are one packed projection [3C, C] ([q | k | v], head-major), loaded packed
/// (InternViT `attn.qkv`) or concatenated from CLIP's separate q/k/v projections.
struct VisionEncoderLayer: Sendable {
  enum Activation: Sendable {
    case quickGELU
    case gelu
  }

  /// [C] each: the LayerNorm before attention.
  let norm1Weight: [Float]
  let norm1Bias: [Float]
  /// [3C, C] + [3C].
  let qkv: Linear
  /// [C, C] + [C].
  let projection: Linear
  /// [C] each: the LayerNorm before the MLP.
  let norm2Weight: [Float]
  let norm2Bias: [Float]
  /// [I, C] + [I] and [C, I] + [C].
  let fc1: Linear
  let fc2: Linear
  /// [C] layer-scale vectors, or nil (CLIP).
  let layerScale1: [Float]?
  let layerScale2: [Float]?
  let activation: Activation
  let heads: Int
  let eps: Float

  /// Runs the layer in place on h [N, C].
  func forward(_ h: UnsafeMutablePointer<Float>, tokens N: Int, scratch: VisionScratch) {
    let C = norm1Weight.count
    let Dh = C / heads
    let I = fc1.outFeatures
    norm1Weight.withUnsafeBufferPointer { w in
      norm1Bias.withUnsafeBufferPointer { b in
        layerNorm(
          scratch.normed, h, weight: w.baseAddress!, bias: b.baseAddress!, rows: N, dim: C, eps: eps
        )
      }
    }
    qkv(scratch.normed, rows: N, into: scratch.qkv, scratch: scratch.matmul)
    let shape = AttentionShape(
      queries: N, keys: N, heads: heads, keyValueHeads: heads, headDim: Dh, causal: false,
      scale: 1 / Float(Dh).squareRoot())
    attention(
      query: AttentionOperand(base: scratch.qkv, rowStride: 3 * C, headStride: Dh),
      key: AttentionOperand(base: scratch.qkv + C, rowStride: 3 * C, headStride: Dh),
      value: AttentionOperand(base: scratch.qkv + 2 * C, rowStride: 3 * C, headStride: Dh),
      output: AttentionOperand(base: scratch.attention, rowStride: C, headStride: Dh),
      shape: shape, scores: scratch.scores)
    projection(scratch.attention, rows: N, into: scratch.projected, scratch: scratch.matmul)
    addResidual(h, scratch.projected, scale: layerScale1, rows: N, dim: C)
    norm2Weight.withUnsafeBufferPointer { w in
      norm2Bias.withUnsafeBufferPointer { b in
        layerNorm(
          scratch.normed, h, weight: w.baseAddress!, bias: b.baseAddress!, rows: N, dim: C, eps: eps
        )
      }
    }
    fc1(scratch.normed, rows: N, into: scratch.inner, scratch: scratch.matmul)
    switch activation {
    case .quickGELU: quickGELU(scratch.inner, count: N * I)
    case .gelu: gelu(scratch.inner, count: N * I)
    }
    fc2(scratch.inner, rows: N, into: scratch.projected, scratch: scratch.matmul)
    addResidual(h, scratch.projected, scale: layerScale2, rows: N, dim: C)
  }

  private func addResidual(
    _ h: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, scale: [Float]?, rows: Int,
    dim: Int
  ) {
    if let scale {
      scale.withUnsafeBufferPointer {
        addScaledRows(h, x, scale: $0.baseAddress!, rows: rows, dim: dim)
      }
    } else {
      addInPlace(h, x, count: rows * dim)
    }
  }
}

/// Buffers for one vision forward over N tokens of width C, allocated once per encoder state.
final class VisionScratch {
  let matmul = MatmulScratch()
  let tokens: Int
  /// [N, C] residual stream.
  let hidden: UnsafeMutablePointer<Float>
  let normed: UnsafeMutablePointer<Float>
  /// [N, 3C].
  let qkv: UnsafeMutablePointer<Float>
  let attention: UnsafeMutablePointer<Float>
  let projected: UnsafeMutablePointer<Float>
  /// [N, I].
  let inner: UnsafeMutablePointer<Float>
  /// [max(N, 64), N]: a row per query, or per head (at most 64) should N be 1.
  let scores: UnsafeMutablePointer<Float>
  /// [patches, 3·P·P] unfolded pixels.
  let patches: UnsafeMutablePointer<Float>

  init(tokens N: Int, width C: Int, intermediate I: Int, patchValues: Int) {
    tokens = N
    hidden = .allocate(capacity: N * C)
    normed = .allocate(capacity: N * C)
    qkv = .allocate(capacity: N * 3 * C)
    attention = .allocate(capacity: N * C)
    projected = .allocate(capacity: N * C)
    inner = .allocate(capacity: N * I)
    scores = .allocate(capacity: max(N, 64) * N)
    patches = .allocate(capacity: N * patchValues)
  }

  deinit {
    for p in [hidden, normed, qkv, attention, projected, inner, scores, patches] { p.deallocate() }
  }
}

/// Unfolds a [3, S, S] image into non-overlapping P×P patches, row-major over the G×G grid, each
/// patch flattened as (channel, y, x) to match a Conv2d weight [C, 3, P, P].
func unfoldPatches(
  _ pixels: UnsafePointer<Float>, imageSize S: Int, patch P: Int,
  into patches: UnsafeMutablePointer<Float>
) {
  let G = S / P
  var o = 0
  for gy in 0..<G {
    for gx in 0..<G {
      for c in 0..<3 {
        for y in 0..<P {
          let source = pixels + (c * S + gy * P + y) * S + gx * P
          (patches + o).update(from: source, count: P)
          o += P
        }
      }
    }
  }
}
