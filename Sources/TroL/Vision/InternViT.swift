// InternViT-300M-448px as TroL-3.8B uses it (trol-engine.md §4.2).
//
// Legend: S tile side (448), P patch (14), G = S/P (32), N = G² + 1 tokens (CLS first), C width
// (1024), I MLP width (4096), heads of width 64. Pixel shuffle: G×G×C → (G/2)×(G/2)×4C.
//
// tile → patch conv (with bias) → [CLS; patches] + positions → 24 layers with layer scale
// → last layer, CLS dropped → pixel shuffle → [(G/2)², 4C].

internal import Foundation
internal import Tensor

/// The InternViT vision tower under `vision_model.`.
struct InternViT: Sendable {
  /// `vision_config` (InternVisionConfig names).
  struct Config: Decodable, Sendable {
    var hidden_size: Int
    var intermediate_size: Int
    var num_hidden_layers: Int
    var num_attention_heads: Int
    var patch_size: Int
    var image_size: Int
    var layer_norm_eps: Float?
    var qkv_bias: Bool?
    var qk_normalization: Bool?
  }

  let config: Config
  /// [C, 3·P·P] + [C] `embeddings.patch_embedding.{weight,bias}`.
  let patchEmbedding: F32Weight
  let patchBias: [Float]
  /// [C] `embeddings.class_embedding` ([1, 1, C]).
  let classEmbedding: [Float]
  /// [G² + 1, C] `embeddings.position_embedding` ([1, G² + 1, C]).
  let positionEmbedding: [Float]
  /// `encoder.layers.{i}.*`.
  let layers: [VisionEncoderLayer]

  var grid: Int { config.image_size / config.patch_size }
  /// Features per tile after pixel shuffle: (G/2)².
  var featuresPerTile: Int { (grid / 2) * (grid / 2) }
  /// 4C: feature width after pixel shuffle.
  var featureWidth: Int { 4 * config.hidden_size }

  init(config: Config, loader: WeightLoader) throws {
    let C = config.hidden_size
    let P = config.patch_size
    guard config.image_size % P == 0, (config.image_size / P) % 2 == 0,
      C % config.num_attention_heads == 0
    else {
      throw TroLError(
        .invalidConfig,
        "config.json vision_config: image_size \(config.image_size) / patch \(P) must give an even grid, and width \(C) must split into \(config.num_attention_heads) heads"
      )
    }
    if config.qk_normalization == true {
      throw TroLError(
        .invalidConfig,
        "config.json vision_config: qk_normalization is not supported (InternViT-300M has none)")
    }
    self.config = config
    let G = config.image_size / P
    let p = "vision_model."
    patchEmbedding = try loader.f32Linear(
      p + "embeddings.patch_embedding.weight", out: C, in: 3 * P * P, storedShape: [C, 3, P, P])
    patchBias = try loader.floats(p + "embeddings.patch_embedding.bias", shape: [C])
    classEmbedding = try loader.floats(p + "embeddings.class_embedding", shape: [C])
    positionEmbedding = try loader.floats(
      p + "embeddings.position_embedding", shape: [G * G + 1, C])
    let I = config.intermediate_size
    let hasQKVBias = config.qkv_bias ?? true
    layers = try (0..<config.num_hidden_layers).map { i in
      let l = p + "encoder.layers.\(i)."
      return VisionEncoderLayer(
        norm1Weight: try loader.floats(l + "norm1.weight", shape: [C]),
        norm1Bias: try loader.floats(l + "norm1.bias", shape: [C]),
        qkv: try Linear(loader, l + "attn.qkv", out: 3 * C, in: C, hasBias: hasQKVBias),
        projection: try Linear(loader, l + "attn.proj", out: C, in: C, hasBias: true),
        norm2Weight: try loader.floats(l + "norm2.weight", shape: [C]),
        norm2Bias: try loader.floats(l + "norm2.bias", shape: [C]),
        fc1: try Linear(loader, l + "mlp.fc1", out: I, in: C, hasBias: true),
        fc2: try Linear(loader, l + "mlp.fc2", out: C, in: I, hasBias: true),
        layerScale1: try loader.floats(l + "ls1", shape: [C]),
        layerScale2: try loader.floats(l + "ls2", shape: [C]),
        activation: .gelu, heads: config.num_attention_heads, eps: config.layer_norm_eps ?? 1e-6)
    }
  }

  func makeScratch() -> VisionScratch {
    let P = config.patch_size
    return VisionScratch(
      tokens: grid * grid + 1, width: config.hidden_size, intermediate: config.intermediate_size,
      patchValues: 3 * P * P)
  }

  /// features[(G/2)², 4C] = pixelShuffle(InternViT(tile[3, S, S])).
  func forward(
    _ pixels: UnsafePointer<Float>, into features: UnsafeMutablePointer<Float>,
    scratch: VisionScratch,
    tracer: Tracer?
  ) {
    let C = config.hidden_size
    let P = config.patch_size
    let G = grid
    let patches = G * G
    let N = patches + 1
    let h = scratch.hidden
    unfoldPatches(pixels, imageSize: config.image_size, patch: P, into: scratch.patches)
    patchEmbedding.multiply(
      scratch.patches, rows: patches, into: h + C, accumulate: false, scratch: scratch.matmul)
    patchBias.withUnsafeBufferPointer {
      addBias(h + C, bias: $0.baseAddress!, rows: patches, dim: C)
    }
    h.update(from: classEmbedding, count: C)
    positionEmbedding.withUnsafeBufferPointer { addInPlace(h, $0.baseAddress!, count: N * C) }
    for layer in layers { layer.forward(h, tokens: N, scratch: scratch) }
    tracer?("vision_last_hidden", nil, UnsafeBufferPointer(start: h, count: N * C))
    // Pixel shuffle: token (r, c) of the (G/2)² grid = [x(2r,2c), x(2r,2c+1), x(2r+1,2c), x(2r+1,2c+1)].
    let grid = h + C
    let half = G / 2
    for r in 0..<half {
      for c in 0..<half {
        let out = features + (r * half + c) * 4 * C
        (out).update(from: grid + ((2 * r) * G + 2 * c) * C, count: C)
        (out + C).update(from: grid + ((2 * r) * G + 2 * c + 1) * C, count: C)
        (out + 2 * C).update(from: grid + ((2 * r + 1) * G + 2 * c) * C, count: C)
        (out + 3 * C).update(from: grid + ((2 * r + 1) * G + 2 * c + 1) * C, count: C)
      }
    }
  }
}
