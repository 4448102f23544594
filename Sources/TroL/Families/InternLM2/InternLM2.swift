// InternLM2 with Partial LoRA, as in TroL-1.8B and TroL-7B (InternLM-XComposer2-VL layout).
//
// Legend: N rows in a forward (tokens of all sequences), D hidden, H query heads, Hkv key/value
// heads, G = H / Hkv, Dh head width (128), F MLP width, R PLoRA rank (256), V vocabulary.
//
// Layer (pre-norm):  h = x + wo(Attn(RMSNorm(x)));  y = h + w2(silu(w1(u)) ⊙ w3(u)), u = RMSNorm(h).
// Every projection is a PLoRA linear: image-token rows also get B·A·x.

internal import Foundation
package import Tensor
import TrolleyBasics

/// The InternLM2 decoder of TroL-1.8B / TroL-7B.
package struct InternLM2: DecoderModel {
  /// One decoder layer's tensors (prefix `model.layers.{i}.`).
  package struct Layer: Sendable {
    /// [D] `attention_norm.weight`.
    package let attentionNorm: [Float]
    /// [(H + 2·Hkv)·Dh, D] `attention.wqkv.{ffn,lora_A,lora_B}.weight`, rows grouped per kv head:
    /// [q head kG … q head kG+G−1, key k, value k].
    package let wqkv: PLoRALinear
    /// [D, H·Dh] `attention.wo.*`.
    package let wo: PLoRALinear
    /// [D] `ffn_norm.weight`.
    package let ffnNorm: [Float]
    /// [F, D] `feed_forward.w1.*` (gate) and `feed_forward.w3.*` (up).
    package let w1: PLoRALinear
    package let w3: PLoRALinear
    /// [D, F] `feed_forward.w2.*` (down).
    package let w2: PLoRALinear
  }

  /// The validated config.json this decoder was built from.
  package let config: InternLM2Config
  /// RMSNorm epsilon, as the kernels take it.
  package let eps: Float
  package let shape: DecoderShape
  package let gate: TroLGate
  /// [V + 1, D] `model.tok_embeddings.weight` (the last row belongs to `<image>` and is never used).
  package let embeddings: any LinearWeight
  package let layers: [Layer]
  /// [D] `model.norm.weight`.
  package let finalNorm: [Float]
  /// [V, D] `output.weight`.
  package let head: any LinearWeight
  package let rope: RotaryEmbedding

  init(config: InternLM2Config, loader: WeightLoader, gate: TroLGate) throws {
    let V = config.vocabSize
    let R = InternLM2Config.ploraRank
    shape = try DecoderShape(
      gate: gate, hidden: config.hiddenSize, layers: config.numHiddenLayers,
      heads: config.numAttentionHeads, keyValueHeads: config.numKeyValueHeads,
      intermediate: config.intermediateSize, vocabulary: V, embeddingRows: V + 1, loraRank: R)
    let (D, F, H, Hkv, Dh) = shape.letters
    self.config = config
    eps = Float(config.rmsNormEps)
    self.gate = gate
    embeddings = try loader.linear("model.tok_embeddings.weight", out: V + 1, in: D)
    layers = try (0..<config.numHiddenLayers).map { i in
      let p = "model.layers.\(i)."
      return Layer(
        attentionNorm: try loader.floats(p + "attention_norm.weight", shape: [D]),
        wqkv: try PLoRALinear(
          loader, p + "attention.wqkv", out: (H + 2 * Hkv) * Dh, in: D, rank: R),
        wo: try PLoRALinear(loader, p + "attention.wo", out: D, in: H * Dh, rank: R),
        ffnNorm: try loader.floats(p + "ffn_norm.weight", shape: [D]),
        w1: try PLoRALinear(loader, p + "feed_forward.w1", out: F, in: D, rank: R),
        w3: try PLoRALinear(loader, p + "feed_forward.w3", out: F, in: D, rank: R),
        w2: try PLoRALinear(loader, p + "feed_forward.w2", out: D, in: F, rank: R))
    }
    finalNorm = try loader.floats("model.norm.weight", shape: [D])
    head = try loader.linear("output.weight", out: V, in: D)
    rope = RotaryEmbedding(headDim: Dh, base: Float(config.ropeTheta))
  }

  package var maxPositions: Int { config.maxPositionEmbeddings }

  /// The five PLoRA projections of every layer.
  private var projections: [PLoRALinear] {
    layers.flatMap { [$0.wqkv, $0.wo, $0.w1, $0.w2, $0.w3] }
  }

  // PLoRA adapters are read only for image tokens, never in decode steps.
  package var streamedBytesPerToken: Int {
    projections.reduce(head.byteCount) { $0 + $1.base.byteCount }
  }

  package var matrixParametersPerToken: Int {
    projections.reduce(0) { $0 + $1.base.inFeatures * $1.base.outFeatures }
  }

  package var loraParametersPerImageToken: Int {
    projections.reduce(0) {
      $0 + $1.loraA.inFeatures * $1.loraA.outFeatures + $1.loraB.inFeatures * $1.loraB.outFeatures
    }
  }

  package func ropeVariant(forSpan span: Int) -> Int { 0 }

  package func layer(
    _ l: Int, _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, batch: ForwardBatch,
    pass: Int,
    scratch: DecoderScratch
  ) {
    let weights = layers[l]
    let N = batch.rows
    let (D, F, H, Hkv, Dh) = shape.letters
    let G = H / Hkv
    batch.imageRows.withUnsafeBufferPointer { imageRows in
      // u = attention_norm(x)
      weights.attentionNorm.withUnsafeBufferPointer {
        rmsNorm(scratch.normed, x, weight: $0.baseAddress!, rows: N, dim: D, eps: eps)
      }
      // qkv = wqkv(u) [N, (H + 2Hkv)·Dh], grouped per kv head
      weights.wqkv.apply(
        scratch.normed, rows: N, into: scratch.qkv, imageRows: imageRows,
        gathered: scratch.gathered,
        low: scratch.low, scratch: scratch.matmul)
      // Queries to [N, H·Dh] in head order: head kG + j is slot j of kv group k.
      let width = shape.qkvWidth
      for r in 0..<N {
        for k in 0..<shape.keyValueHeads {
          (scratch.queries + r * shape.heads * Dh + k * G * Dh)
            .update(from: scratch.qkv + r * width + k * (G + 2) * Dh, count: G * Dh)
        }
      }
      causalSelfAttention(
        layer: l, batch: batch, pass: pass, scratch: scratch, queries: scratch.queries,
        queryRowStride: shape.heads * Dh, qkv: scratch.qkv,
        layout: PackedQKVLayout(
          rowWidth: width, keyColumn: G * Dh, keyHeadStride: (G + 2) * Dh,
          valueColumn: (G + 1) * Dh,
          valueHeadStride: (G + 2) * Dh),
        rope: { _ in rope }, output: scratch.attention)
      // h = x + wo(attn)
      weights.wo.apply(
        scratch.attention, rows: N, into: scratch.projected, imageRows: imageRows,
        gathered: scratch.gathered,
        low: scratch.low, scratch: scratch.matmul)
      scratch.residual.update(from: x, count: N * D)
      addInPlace(scratch.residual, scratch.projected, count: N * D)
      // u = ffn_norm(h)
      weights.ffnNorm.withUnsafeBufferPointer {
        rmsNorm(
          scratch.normed, scratch.residual, weight: $0.baseAddress!, rows: N, dim: D, eps: eps)
      }
      // m = silu(w1(u)) ⊙ w3(u)
      let gateRows = scratch.inner
      let upRows = scratch.inner + N * F
      weights.w1.apply(
        scratch.normed, rows: N, into: gateRows, imageRows: imageRows, gathered: scratch.gathered,
        low: scratch.low, scratch: scratch.matmul)
      weights.w3.apply(
        scratch.normed, rows: N, into: upRows, imageRows: imageRows, gathered: scratch.gathered,
        low: scratch.low, scratch: scratch.matmul)
      swiGLU(scratch.product, gate: gateRows, up: upRows, count: N * F)
      // y = h + w2(m)
      weights.w2.apply(
        scratch.product, rows: N, into: scratch.projected, imageRows: imageRows,
        gathered: scratch.gathered,
        low: scratch.low, scratch: scratch.matmul)
      y.update(from: scratch.residual, count: N * D)
      addInPlace(y, scratch.projected, count: N * D)
    }
  }
}
