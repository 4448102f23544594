// InternViT-300M-448px as TroL-3.8B uses it (docs/model.md, "Vision towers").
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
  /// The validated `vision_config`, with `image_size` the tile side the tower runs at.
  let config: InternViTConfig
  /// `embeddings.patch_embedding.{weight,bias}` ([C, 3, P, P] + [C]),
  /// `embeddings.class_embedding` ([1, 1, C]) and `embeddings.position_embedding`
  /// ([1, G² + 1, C]).
  let embeddings: PatchEmbedding
  /// `encoder.layers.{i}.*`.
  let layers: [VisionEncoderLayer]

  var grid: Int { config.imageSize / config.patchSize }
  /// Features per tile after pixel shuffle: (G/2)².
  var featuresPerTile: Int { (grid / 2) * (grid / 2) }
  /// 4C: feature width after pixel shuffle.
  var featureWidth: Int { 4 * config.hiddenSize }

  /// Where the tower's tensors sit in TroL-3.8B checkpoints.
  static let prefix = "vision_model."

  init(config: InternViTConfig, loader: WeightLoader) throws {
    let C = config.hiddenSize
    let P = config.patchSize
    self.config = config
    let G = config.imageSize / P
    let p = Self.prefix
    embeddings = PatchEmbedding(
      weight: try loader.f32Linear(
        p + "embeddings.patch_embedding.weight", out: C, in: 3 * P * P, storedShape: [C, 3, P, P]),
      bias: try loader.floats(p + "embeddings.patch_embedding.bias", shape: [C]),
      classEmbedding: try loader.floats(p + "embeddings.class_embedding", shape: [C]),
      positions: try loader.floats(p + "embeddings.position_embedding", shape: [G * G + 1, C]),
      imageSize: config.imageSize, patchSize: P)
    let I = config.intermediateSize
    let hasQKVBias = config.qkvBias
    layers = try (0..<config.numHiddenLayers).map { i in
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
        activation: .gelu, heads: config.numAttentionHeads, eps: Float(config.layerNormEps))
    }
  }

  func makeScratch() -> VisionScratch { config.fields.makeScratch(tokens: grid * grid + 1) }

  /// features[(G/2)², 4C] = pixelShuffle(InternViT(tile[3, S, S])).
  func forward(
    _ pixels: UnsafePointer<Float>, into features: UnsafeMutablePointer<Float>,
    scratch: VisionScratch,
    tracer: Tracer?
  ) {
    let C = config.hiddenSize
    let G = grid
    let N = G * G + 1
    let h = scratch.hidden
    embeddings.embed(pixels, scratch: scratch)
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

extension InternViT {
  /// The tower's tensors as the checkpoint stores them, for tiles of `config.imageSize`.
  static func tensors(_ config: InternViTConfig, dtype: SafeTensorsDType) -> [CheckpointTensor] {
    let C = config.hiddenSize
    let I = config.intermediateSize
    let P = config.patchSize
    let G = config.imageSize / P
    let p = prefix
    var list = TensorList(dtype: dtype, part: .visionTower)
    list.add(p + "embeddings.class_embedding", [1, 1, C], .random(std: 0.02))
    list.add(p + "embeddings.patch_embedding.weight", [C, 3, P, P], .fanIn(3 * P * P))
    list.zeros(p + "embeddings.patch_embedding.bias", C)
    list.add(p + "embeddings.position_embedding", [1, G * G + 1, C], .random(std: 0.02))
    for i in 0..<config.numHiddenLayers {
      let l = p + "encoder.layers.\(i)."
      list.layerNorm(l + "norm1", C)
      list.layerNorm(l + "norm2", C)
      if config.qkvBias {
        list.linearWithBias(l + "attn.qkv", 3 * C, C)
      } else {
        list.linear(l + "attn.qkv.weight", 3 * C, C)
      }
      list.linearWithBias(l + "attn.proj", C, C)
      list.linearWithBias(l + "mlp.fc1", I, C)
      list.linearWithBias(l + "mlp.fc2", C, I)
      list.add(l + "ls1", [C], .constant(0.5))
      list.add(l + "ls2", [C], .constant(0.5))
    }
    return list.tensors
  }
}
