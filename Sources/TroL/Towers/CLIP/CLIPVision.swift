// CLIP ViT-L/14 as TroL-1.8B / TroL-7B use it (docs/model.md, "Vision towers").
//
// Legend: S image side (490), P patch (14), G = S/P (35), N = G² + 1 tokens (CLS first), C width
// (1024), I MLP width (4096), heads of width 64.
//
// pixels → patch conv (no bias) → [CLS; patches] + positions → pre_layrnorm → 24 layers
// → last layer's output without post_layernorm, CLS dropped → [G², C].

internal import Foundation
internal import Tensor

/// The CLIP vision tower under `vit.vision_tower.vision_model.`.
struct CLIPVision: Sendable {
  /// The validated `vision_config` (`image_size` is config.json's `img_size`).
  let config: CLIPVisionConfig
  /// S: the run-time resolution (config.json `img_size`, 490 for the released models).
  var imageSize: Int { config.imageSize }
  /// LayerNorm epsilon, as the kernels take it.
  let eps: Float
  /// `embeddings.patch_embedding.weight` ([C, 3, P, P], no bias), `embeddings.class_embedding`
  /// ([C]) and `embeddings.position_embedding.weight` ([G² + 1, C]).
  let embeddings: PatchEmbedding
  /// [C] `pre_layrnorm.{weight,bias}`.
  let preNormWeight: [Float]
  let preNormBias: [Float]
  /// `encoder.layers.{i}.*`.
  let layers: [VisionEncoderLayer]

  /// G²: features per image.
  var featureCount: Int { config.patchCount }
  var width: Int { config.hiddenSize }

  /// Where the tower's tensors sit in TroL-1.8B/7B checkpoints.
  static let prefix = "vit.vision_tower.vision_model."

  init(config: CLIPVisionConfig, loader: WeightLoader) throws {
    let C = config.hiddenSize
    let P = config.patchSize
    self.config = config
    let eps = Float(config.layerNormEps)
    self.eps = eps
    let G = config.gridSize
    let p = Self.prefix
    embeddings = PatchEmbedding(
      weight: try loader.f32Linear(
        p + "embeddings.patch_embedding.weight", out: C, in: 3 * P * P, storedShape: [C, 3, P, P]),
      bias: nil, classEmbedding: try loader.floats(p + "embeddings.class_embedding", shape: [C]),
      positions: WeightLoader.widen(
        try loader.raw(p + "embeddings.position_embedding.weight", shape: [G * G + 1, C])),
      imageSize: config.imageSize, patchSize: P)
    preNormWeight = try loader.floats(p + "pre_layrnorm.weight", shape: [C])
    preNormBias = try loader.floats(p + "pre_layrnorm.bias", shape: [C])
    let I = config.intermediateSize
    layers = try (0..<config.numHiddenLayers).map { i in
      let l = p + "encoder.layers.\(i)."
      // q, k, v are separate in CLIP; packing them [q | k | v] lets one product serve all three.
      let packed = try ["q_proj", "k_proj", "v_proj"].map {
        try loader.floats(l + "self_attn.\($0).weight", shape: [C, C])
      }
      let packedBias = try ["q_proj", "k_proj", "v_proj"].map {
        try loader.floats(l + "self_attn.\($0).bias", shape: [C])
      }
      return VisionEncoderLayer(
        norm1Weight: try loader.floats(l + "layer_norm1.weight", shape: [C]),
        norm1Bias: try loader.floats(l + "layer_norm1.bias", shape: [C]),
        qkv: Linear(
          weight: F32Weight(outFeatures: 3 * C, inFeatures: C, values: packed.flatMap { $0 }),
          bias: packedBias.flatMap { $0 }),
        projection: try Linear(loader, l + "self_attn.out_proj", out: C, in: C, hasBias: true),
        norm2Weight: try loader.floats(l + "layer_norm2.weight", shape: [C]),
        norm2Bias: try loader.floats(l + "layer_norm2.bias", shape: [C]),
        fc1: try Linear(loader, l + "mlp.fc1", out: I, in: C, hasBias: true),
        fc2: try Linear(loader, l + "mlp.fc2", out: C, in: I, hasBias: true),
        layerScale1: nil, layerScale2: nil,
        activation: config.hiddenAct == "gelu" ? .gelu : .quickGELU,
        heads: config.numAttentionHeads, eps: eps)
    }
  }

  func makeScratch() -> VisionScratch { config.fields.makeScratch(tokens: featureCount + 1) }

  /// features[G², C] = CLIP(pixels[3, S, S]) (normalized pixels, channel-major).
  func forward(
    _ pixels: UnsafePointer<Float>, into features: UnsafeMutablePointer<Float>,
    scratch: VisionScratch,
    tracer: Tracer?
  ) {
    let C = config.hiddenSize
    let patches = featureCount
    let N = patches + 1
    let h = scratch.hidden
    // [CLS; conv(pixels)] + position_embedding
    embeddings.embed(pixels, scratch: scratch)
    // pre_layrnorm
    preNormWeight.withUnsafeBufferPointer { w in
      preNormBias.withUnsafeBufferPointer { b in
        layerNorm(
          h, h, weight: w.baseAddress!, bias: b.baseAddress!, rows: N, dim: C,
          eps: eps)
      }
    }
    for layer in layers { layer.forward(h, tokens: N, scratch: scratch) }
    // hidden_states[-1] without post_layernorm, CLS dropped.
    features.update(from: h + C, count: patches * C)
  }
}

extension CLIPVision {
  /// The tower's tensors as the checkpoint stores them (`post_layernorm` is stored, never read).
  static func tensors(_ config: CLIPVisionConfig, dtype: SafeTensorsDType) -> [CheckpointTensor] {
    let C = config.hiddenSize
    let I = config.intermediateSize
    let P = config.patchSize
    let G = config.gridSize
    let p = prefix
    var list = TensorList(dtype: dtype, part: .visionTower)
    list.add(p + "embeddings.class_embedding", [C], .random(std: 0.02))
    list.add(p + "embeddings.patch_embedding.weight", [C, 3, P, P], .fanIn(3 * P * P))
    list.add(p + "embeddings.position_embedding.weight", [G * G + 1, C], .random(std: 0.02))
    list.layerNorm(p + "pre_layrnorm", C)
    for i in 0..<config.numHiddenLayers {
      let l = p + "encoder.layers.\(i)."
      list.layerNorm(l + "layer_norm1", C)
      list.layerNorm(l + "layer_norm2", C)
      for name in ["q_proj", "k_proj", "v_proj", "out_proj"] {
        list.linearWithBias(l + "self_attn." + name, C, C)
      }
      list.linearWithBias(l + "mlp.fc1", I, C)
      list.linearWithBias(l + "mlp.fc2", C, I)
    }
    list.layerNorm(p + "post_layernorm", C, loaded: false)
    return list.tensors
  }
}
