// CLIP ViT-L/14 as TroL-1.8B / TroL-7B use it (trol-engine.md §4.1).
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
  /// `vision_config` (HF CLIPVisionConfig names); defaults are openai/clip-vit-large-patch14-336.
  struct Config: Decodable, Sendable {
    var hidden_size: Int = 1024
    var intermediate_size: Int = 4096
    var num_hidden_layers: Int = 24
    var num_attention_heads: Int = 16
    var patch_size: Int = 14
    var image_size: Int = 336
    var layer_norm_eps: Float = 1e-5

    init() {}

    init(from decoder: any Decoder) throws {
      let c = try decoder.container(keyedBy: CodingKeys.self)
      let d = Config()
      hidden_size = try c.decodeIfPresent(Int.self, forKey: .hidden_size) ?? d.hidden_size
      intermediate_size =
        try c.decodeIfPresent(Int.self, forKey: .intermediate_size) ?? d.intermediate_size
      num_hidden_layers =
        try c.decodeIfPresent(Int.self, forKey: .num_hidden_layers) ?? d.num_hidden_layers
      num_attention_heads =
        try c.decodeIfPresent(Int.self, forKey: .num_attention_heads) ?? d.num_attention_heads
      patch_size = try c.decodeIfPresent(Int.self, forKey: .patch_size) ?? d.patch_size
      image_size = try c.decodeIfPresent(Int.self, forKey: .image_size) ?? d.image_size
      layer_norm_eps =
        try c.decodeIfPresent(Float.self, forKey: .layer_norm_eps) ?? d.layer_norm_eps
    }

    enum CodingKeys: String, CodingKey {
      case hidden_size, intermediate_size, num_hidden_layers, num_attention_heads, patch_size,
        image_size
      case layer_norm_eps
    }
  }

  let config: Config
  /// S: the run-time resolution (config.json `img_size`, 490 for the released models).
  let imageSize: Int
  /// [C, 3·P·P] `embeddings.patch_embedding.weight` ([C, 3, P, P]).
  let patchEmbedding: F32Weight
  /// [C] `embeddings.class_embedding`.
  let classEmbedding: [Float]
  /// [G² + 1, C] `embeddings.position_embedding.weight`.
  let positionEmbedding: [Float]
  /// [C] `pre_layrnorm.{weight,bias}`.
  let preNormWeight: [Float]
  let preNormBias: [Float]
  /// `encoder.layers.{i}.*`.
  let layers: [VisionEncoderLayer]

  /// G²: features per image.
  var featureCount: Int { (imageSize / config.patch_size) * (imageSize / config.patch_size) }
  var width: Int { config.hidden_size }

  init(config: Config, imageSize: Int, loader: WeightLoader) throws {
    let C = config.hidden_size
    let P = config.patch_size
    guard imageSize % P == 0, C % config.num_attention_heads == 0 else {
      throw TroLError(
        .invalidConfig,
        "config.json: image size \(imageSize) is not a multiple of patch \(P), or width \(C) does not split into \(config.num_attention_heads) heads"
      )
    }
    self.config = config
    self.imageSize = imageSize
    let G = imageSize / P
    let p = "vit.vision_tower.vision_model."
    patchEmbedding = try loader.f32Linear(
      p + "embeddings.patch_embedding.weight", out: C, in: 3 * P * P, storedShape: [C, 3, P, P])
    classEmbedding = try loader.floats(p + "embeddings.class_embedding", shape: [C])
    let positions = try loader.raw(
      p + "embeddings.position_embedding.weight", shape: [G * G + 1, C])
    positionEmbedding = WeightLoader.widen(positions)
    preNormWeight = try loader.floats(p + "pre_layrnorm.weight", shape: [C])
    preNormBias = try loader.floats(p + "pre_layrnorm.bias", shape: [C])
    let I = config.intermediate_size
    layers = try (0..<config.num_hidden_layers).map { i in
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
        layerScale1: nil, layerScale2: nil, activation: .quickGELU,
        heads: config.num_attention_heads,
        eps: config.layer_norm_eps)
    }
  }

  func makeScratch() -> VisionScratch {
    let P = config.patch_size
    return VisionScratch(
      tokens: featureCount + 1, width: config.hidden_size, intermediate: config.intermediate_size,
      patchValues: 3 * P * P)
  }

  /// features[G², C] = CLIP(pixels[3, S, S]) (normalized pixels, channel-major).
  func forward(
    _ pixels: UnsafePointer<Float>, into features: UnsafeMutablePointer<Float>,
    scratch: VisionScratch,
    tracer: Tracer?
  ) {
    let C = config.hidden_size
    let P = config.patch_size
    let patches = featureCount
    let N = patches + 1
    let h = scratch.hidden
    // patch_embeds = conv(pixels) as one product over unfolded patches, into rows 1...G².
    unfoldPatches(pixels, imageSize: imageSize, patch: P, into: scratch.patches)
    patchEmbedding.multiply(
      scratch.patches, rows: patches, into: h + C, accumulate: false, scratch: scratch.matmul)
    // [CLS; patches] + position_embedding
    h.update(from: classEmbedding, count: C)
    positionEmbedding.withUnsafeBufferPointer { addInPlace(h, $0.baseAddress!, count: N * C) }
    // pre_layrnorm
    preNormWeight.withUnsafeBufferPointer { w in
      preNormBias.withUnsafeBufferPointer { b in
        layerNorm(
          h, h, weight: w.baseAddress!, bias: b.baseAddress!, rows: N, dim: C,
          eps: config.layer_norm_eps)
      }
    }
    for layer in layers { layer.forward(h, tokens: N, scratch: scratch) }
    // hidden_states[-1] without post_layernorm, CLS dropped.
    features.update(from: h + C, count: patches * C)
  }
}
