// Phi-3-mini with LongRoPE ("su" scaling), as in TroL-3.8B (InternVL-chat layout).
//
// Legend: N rows in a forward, D hidden, H query heads, Hkv key/value heads (= H in Phi-3-mini),
// Dh head width (96), F MLP width, V vocabulary (LM head rows, 32064 with padding rows).
//
// Layer (pre-norm):  h = x + o_proj(Attn(input_layernorm(x)));
//                    y = h + down_proj(up ⊙ silu(gate)), [gate | up] = gate_up_proj(post_attention_layernorm(h)).

internal import Foundation
package import Tensor
import TrolleyBasics

/// The Phi-3 decoder of TroL-3.8B.
package struct Phi3: DecoderModel {
  /// One decoder layer's tensors (prefix `language_model.model.layers.{i}.`).
  package struct Layer: Sendable {
    /// [D] `input_layernorm.weight`.
    package let inputNorm: [Float]
    /// [(H + 2·Hkv)·Dh, D] `self_attn.qkv_proj.weight`: rows [q | k | v], head-major.
    package let qkv: any LinearWeight
    /// [D, H·Dh] `self_attn.o_proj.weight`.
    package let output: any LinearWeight
    /// [D] `post_attention_layernorm.weight`.
    package let postAttentionNorm: [Float]
    /// [2F, D] `mlp.gate_up_proj.weight`: rows [gate | up].
    package let gateUp: any LinearWeight
    /// [D, F] `mlp.down_proj.weight`.
    package let down: any LinearWeight
  }

  /// The validated `llm_config` this decoder was built from.
  package let config: Phi3Config
  /// RMSNorm epsilon, as the kernels take it.
  package let eps: Float
  package let shape: DecoderShape
  package let gate: TroLGate
  /// [V, D] `language_model.model.embed_tokens.weight`.
  package let embeddings: any LinearWeight
  package let layers: [Layer]
  /// [D] `language_model.model.norm.weight`.
  package let finalNorm: [Float]
  /// [V, D] `language_model.lm_head.weight`.
  package let head: any LinearWeight
  /// Rotary embeddings with the short and long LongRoPE factors (equal when there is no scaling).
  package let shortRope: RotaryEmbedding
  package let longRope: RotaryEmbedding
  /// Sequences whose largest position id + 1 exceeds this use the long factors.
  package let originalMaxPositions: Int

  init(config: Phi3Config, loader: WeightLoader, gate: TroLGate) throws {
    let V = config.vocabSize
    shape = try DecoderShape(
      gate: gate, hidden: config.hiddenSize, layers: config.numHiddenLayers,
      heads: config.numAttentionHeads, keyValueHeads: config.numKeyValueHeads,
      intermediate: config.intermediateSize, vocabulary: V, embeddingRows: V, loraRank: 0)
    let (D, F, H, Hkv, Dh) = shape.letters
    self.config = config
    eps = Float(config.rmsNormEps)
    self.gate = gate
    let prefix = "language_model.model."
    embeddings = try loader.linear(prefix + "embed_tokens.weight", out: V, in: D)
    layers = try (0..<config.numHiddenLayers).map { i in
      let p = prefix + "layers.\(i)."
      return Layer(
        inputNorm: try loader.floats(p + "input_layernorm.weight", shape: [D]),
        qkv: try loader.linear(p + "self_attn.qkv_proj.weight", out: (H + 2 * Hkv) * Dh, in: D),
        output: try loader.linear(p + "self_attn.o_proj.weight", out: D, in: H * Dh),
        postAttentionNorm: try loader.floats(p + "post_attention_layernorm.weight", shape: [D]),
        gateUp: try loader.linear(p + "mlp.gate_up_proj.weight", out: 2 * F, in: D),
        down: try loader.linear(p + "mlp.down_proj.weight", out: D, in: F))
    }
    finalNorm = try loader.floats(prefix + "norm.weight", shape: [D])
    head = try loader.linear("language_model.lm_head.weight", out: V, in: D)

    originalMaxPositions = config.originalMaxPositionEmbeddings
    let theta = Float(config.ropeTheta)
    if let scaling = config.ropeScaling {
      // Validated: su/longrope with Dh / 2 factors each. cos and sin are both scaled by
      // `ropeMagnitudeScale` whenever max > original.
      let magnitude = Float(config.ropeMagnitudeScale)
      shortRope = RotaryEmbedding(
        headDim: Dh, base: theta, factors: scaling.shortFactor.map { Float($0) },
        magnitude: magnitude)
      longRope = RotaryEmbedding(
        headDim: Dh, base: theta, factors: scaling.longFactor.map { Float($0) },
        magnitude: magnitude)
    } else {
      shortRope = RotaryEmbedding(headDim: Dh, base: theta)
      longRope = shortRope
    }
  }

  package var maxPositions: Int { config.maxPositionEmbeddings }

  package func ropeVariant(forSpan span: Int) -> Int { span > originalMaxPositions ? 1 : 0 }

  private var matrices: [any LinearWeight] {
    layers.flatMap { [$0.qkv, $0.output, $0.gateUp, $0.down] }
  }

  package var streamedBytesPerToken: Int { matrices.reduce(head.byteCount) { $0 + $1.byteCount } }

  package var matrixParametersPerToken: Int {
    matrices.reduce(0) { $0 + $1.inFeatures * $1.outFeatures }
  }

  package var loraParametersPerImageToken: Int { 0 }

  package func layer(
    _ l: Int, _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, batch: ForwardBatch,
    pass: Int,
    scratch: DecoderScratch
  ) {
    let weights = layers[l]
    let N = batch.rows
    let (D, F, H, Hkv, Dh) = shape.letters
    // u = input_layernorm(x)
    weights.inputNorm.withUnsafeBufferPointer {
      rmsNorm(scratch.normed, x, weight: $0.baseAddress!, rows: N, dim: D, eps: eps)
    }
    // qkv = qkv_proj(u) [N, (H + 2Hkv)·Dh]; queries are used in place.
    weights.qkv.multiply(
      scratch.normed, rows: N, into: scratch.qkv, accumulate: false, scratch: scratch.matmul)
    let width = shape.qkvWidth
    let original = originalMaxPositions
    causalSelfAttention(
      layer: l, batch: batch, pass: pass, scratch: scratch, queries: scratch.qkv,
      queryRowStride: width,
      qkv: scratch.qkv,
      layout: PackedQKVLayout(
        rowWidth: width, keyColumn: H * Dh, keyHeadStride: Dh, valueColumn: (H + Hkv) * Dh,
        valueHeadStride: Dh),
      rope: { slice in slice.ropeSpan > original ? longRope : shortRope }, output: scratch.attention
    )
    // h = x + o_proj(attn)
    weights.output.multiply(
      scratch.attention, rows: N, into: scratch.projected, accumulate: false,
      scratch: scratch.matmul)
    scratch.residual.update(from: x, count: N * D)
    addInPlace(scratch.residual, scratch.projected, count: N * D)
    // [gate | up] = gate_up_proj(post_attention_layernorm(h)); m = up ⊙ silu(gate)
    weights.postAttentionNorm.withUnsafeBufferPointer {
      rmsNorm(scratch.normed, scratch.residual, weight: $0.baseAddress!, rows: N, dim: D, eps: eps)
    }
    weights.gateUp.multiply(
      scratch.normed, rows: N, into: scratch.inner, accumulate: false, scratch: scratch.matmul)
    for r in 0..<N {
      let row = scratch.inner + r * 2 * F
      swiGLU(scratch.product + r * F, gate: row, up: row + F, count: F)
    }
    // y = h + down_proj(m)
    weights.down.multiply(
      scratch.product, rows: N, into: scratch.projected, accumulate: false, scratch: scratch.matmul)
    y.update(from: scratch.residual, count: N * D)
    addInPlace(y, scratch.projected, count: N * D)
  }
}
