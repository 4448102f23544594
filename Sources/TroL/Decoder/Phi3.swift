// Phi-3-mini with LongRoPE ("su" scaling), as in TroL-3.8B (InternVL-chat layout).
//
// Legend: N rows in a forward, D hidden, H query heads, Hkv key/value heads (= H in Phi-3-mini),
// Dh head width (96), F MLP width, V vocabulary (LM head rows, 32064 with padding rows).
//
// Layer (pre-norm):  h = x + o_proj(Attn(input_layernorm(x)));
//                    y = h + down_proj(up ⊙ silu(gate)), [gate | up] = gate_up_proj(post_attention_layernorm(h)).

internal import Foundation
internal import Tensor

/// The Phi-3 decoder of TroL-3.8B.
struct Phi3: DecoderModel {
  /// `llm_config` of the composite config.json.
  struct Config: Decodable, Sendable {
    struct RopeScaling: Decodable, Sendable {
      var type: String
      var short_factor: [Float]?
      var long_factor: [Float]?
    }
    var hidden_size: Int
    var num_attention_heads: Int
    var num_key_value_heads: Int?
    var num_hidden_layers: Int
    var intermediate_size: Int
    var vocab_size: Int
    var rms_norm_eps: Float
    var rope_theta: Float
    var max_position_embeddings: Int
    var original_max_position_embeddings: Int?
    var rope_scaling: RopeScaling?
    var eos_token_id: Int?
    var bos_token_id: Int?
    var pad_token_id: Int?
  }

  /// One decoder layer's tensors (prefix `language_model.model.layers.{i}.`).
  struct Layer: Sendable {
    /// [D] `input_layernorm.weight`.
    let inputNorm: [Float]
    /// [(H + 2·Hkv)·Dh, D] `self_attn.qkv_proj.weight`: rows [q | k | v], head-major.
    let qkv: any LinearWeight
    /// [D, H·Dh] `self_attn.o_proj.weight`.
    let output: any LinearWeight
    /// [D] `post_attention_layernorm.weight`.
    let postAttentionNorm: [Float]
    /// [2F, D] `mlp.gate_up_proj.weight`: rows [gate | up].
    let gateUp: any LinearWeight
    /// [D, F] `mlp.down_proj.weight`.
    let down: any LinearWeight
  }

  let config: Config
  let shape: DecoderShape
  let gate: TroLGate
  /// [V, D] `language_model.model.embed_tokens.weight`.
  let embeddings: any LinearWeight
  let layers: [Layer]
  /// [D] `language_model.model.norm.weight`.
  let finalNorm: [Float]
  /// [V, D] `language_model.lm_head.weight`.
  let head: any LinearWeight
  /// Rotary embeddings with the short and long LongRoPE factors (equal when there is no scaling).
  let shortRope: RotaryEmbedding
  let longRope: RotaryEmbedding
  /// Sequences whose largest position id + 1 exceeds this use the long factors.
  let originalMaxPositions: Int

  init(config: Config, loader: WeightLoader, gate: TroLGate) throws {
    let D = config.hidden_size
    let H = config.num_attention_heads
    let Hkv = config.num_key_value_heads ?? H
    guard D > 0, H > 0, Hkv > 0, H % Hkv == 0, D % H == 0, config.num_hidden_layers > 0 else {
      throw TroLError(
        .invalidConfig,
        "config.json llm_config: hidden_size \(D) with \(H) heads over \(Hkv) kv heads is not a valid Phi-3 shape"
      )
    }
    guard gate.weight.count == D else {
      throw TroLError(
        .invalidCheckpoint,
        "trol_gating.pt: gate width \(gate.weight.count) but hidden_size is \(D)")
    }
    let Dh = D / H
    let F = config.intermediate_size
    let V = config.vocab_size
    self.config = config
    self.gate = gate
    shape = DecoderShape(
      hidden: D, layers: config.num_hidden_layers, heads: H, keyValueHeads: Hkv, headDim: Dh,
      intermediate: F,
      vocabulary: V, embeddingRows: V, loraRank: 0)
    let prefix = "language_model.model."
    embeddings = try loader.linear(prefix + "embed_tokens.weight", out: V, in: D)
    layers = try (0..<config.num_hidden_layers).map { i in
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

    let original = config.original_max_position_embeddings ?? config.max_position_embeddings
    originalMaxPositions = original
    if let scaling = config.rope_scaling, scaling.type == "su" || scaling.type == "longrope" {
      guard let short = scaling.short_factor, let long = scaling.long_factor, short.count == Dh / 2,
        long.count == Dh / 2
      else {
        throw TroLError(
          .invalidConfig,
          "config.json llm_config.rope_scaling: short_factor and long_factor need \(Dh / 2) entries each"
        )
      }
      // cos and sin are both scaled by sqrt(1 + ln(max/original) / ln(original)) whenever max > original.
      let ratio = Double(config.max_position_embeddings) / Double(original)
      let magnitude = ratio <= 1 ? 1 : Float((1 + log(ratio) / log(Double(original))).squareRoot())
      shortRope = RotaryEmbedding(
        headDim: Dh, base: config.rope_theta, factors: short, magnitude: magnitude)
      longRope = RotaryEmbedding(
        headDim: Dh, base: config.rope_theta, factors: long, magnitude: magnitude)
    } else if config.rope_scaling == nil {
      shortRope = RotaryEmbedding(headDim: Dh, base: config.rope_theta)
      longRope = shortRope
    } else {
      throw TroLError(
        .invalidConfig,
        "config.json llm_config.rope_scaling type \(config.rope_scaling!.type) is not supported (expected su)"
      )
    }
  }

  var maxPositions: Int { config.max_position_embeddings }

  func ropeVariant(forSpan span: Int) -> Int { span > originalMaxPositions ? 1 : 0 }

  func embed(_ token: Int, into destination: UnsafeMutablePointer<Float>) {
    embeddings.copyRow(token, into: destination)
  }

  func layer(
    _ l: Int, _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, batch: ForwardBatch,
    pass: Int,
    scratch: DecoderScratch
  ) {
    let weights = layers[l]
    let N = batch.rows
    let D = shape.hidden
    let F = shape.intermediate
    let H = shape.heads
    let Hkv = shape.keyValueHeads
    let Dh = shape.headDim
    let eps = config.rms_norm_eps
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

  func logits(
    _ h: UnsafePointer<Float>, rows: Int, into logits: UnsafeMutablePointer<Float>,
    scratch: DecoderScratch
  ) {
    finalNorm.withUnsafeBufferPointer {
      rmsNorm(
        scratch.normed, h, weight: $0.baseAddress!, rows: rows, dim: shape.hidden,
        eps: config.rms_norm_eps)
    }
    head.multiply(
      scratch.normed, rows: rows, into: logits, accumulate: false, scratch: scratch.matmul)
  }
}
