import TrolleyBasics

/// The `vision_config` keys both towers have (HF names), each with the tower's default for a
/// file that omits it (`CLIPVisionConfig` and `InternViTConfig` give theirs).
public struct ViTFields: Sendable, Hashable, Encodable {
  /// Width of the tower (1024 for CLIP-L and InternViT-300M).
  public var hiddenSize = 1024
  /// MLP width (4096).
  public var intermediateSize = 4096
  /// Encoder layers (24).
  public var numHiddenLayers = 24
  /// Attention heads (16, head dim 64).
  public var numAttentionHeads = 16
  /// Input channels (3).
  public var numChannels = 3
  /// Input resolution in pixels: the image (CLIP) or one tile (InternViT).
  public var imageSize: Int
  /// Patch size in pixels (14).
  public var patchSize = 14
  /// Activation: `quick_gelu` (CLIP) or `gelu` (exact erf, InternViT).
  public var hiddenAct: String
  /// LayerNorm epsilon: 1e-5 (CLIP), 1e-6 (InternViT).
  public var layerNormEps: Double

  enum CodingKeys: String, SnakeCaseCodingKey {
    case hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads, numChannels, imageSize,
      patchSize, hiddenAct, layerNormEps
  }

  /// The ViT-L/14 shape (1024 wide, 24 layers, 16 heads) with a tower's own values for the rest.
  init(imageSize: Int, hiddenAct: String, layerNormEps: Double) {
    self.imageSize = imageSize
    self.hiddenAct = hiddenAct
    self.layerNormEps = layerNormEps
  }

  /// Decodes the shared keys from a `vision_config` object; `defaults` fills those it omits.
  init(from decoder: any Decoder, defaults: ViTFields) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    func value<T: Decodable>(_ key: CodingKeys, _ fallback: KeyPath<ViTFields, T>) throws -> T {
      try c.decodeIfPresent(T.self, forKey: key) ?? defaults[keyPath: fallback]
    }
    hiddenSize = try value(.hiddenSize, \.hiddenSize)
    intermediateSize = try value(.intermediateSize, \.intermediateSize)
    numHiddenLayers = try value(.numHiddenLayers, \.numHiddenLayers)
    numAttentionHeads = try value(.numAttentionHeads, \.numAttentionHeads)
    numChannels = try value(.numChannels, \.numChannels)
    imageSize = try value(.imageSize, \.imageSize)
    patchSize = try value(.patchSize, \.patchSize)
    hiddenAct = try value(.hiddenAct, \.hiddenAct)
    layerNormEps = try value(.layerNormEps, \.layerNormEps)
  }

  /// Head width (64).
  public var headDim: Int { hiddenSize / numAttentionHeads }

  /// The vision part of `ModelConfig.Summary`.
  var dimensions: ModelConfig.Vision {
    ModelConfig.Vision(
      hiddenSize: hiddenSize, intermediateSize: intermediateSize, layers: numHiddenLayers,
      heads: numAttentionHeads, headDim: headDim, patchSize: patchSize, imageSize: imageSize,
      layerNormEps: layerNormEps, hiddenAct: hiddenAct)
  }

  /// The checks every tower needs (`ConfigValidator.visionTower`).
  func validate(_ check: ConfigValidator, wholePatches: Bool) throws {
    try check.visionTower(
      hiddenSize: hiddenSize, intermediateSize: intermediateSize, layers: numHiddenLayers,
      heads: numAttentionHeads, patchSize: patchSize, imageSize: imageSize,
      wholePatches: wholePatches, channels: numChannels, layerNormEps: layerNormEps)
  }

  /// Scratch for one forward pass over `tokens` tokens (patches plus CLS).
  func makeScratch(tokens: Int) -> VisionScratch {
    VisionScratch(
      tokens: tokens, width: hiddenSize, intermediate: intermediateSize,
      patchValues: 3 * patchSize * patchSize)
  }
}
