import TrolleyBasics

/// The CLIP ViT tower of the InternLM2 family (TroL-1.8B/7B): HF `CLIPVisionConfig` fields.
///
/// The released configs have no `vision_config` (the tower comes from
/// `openai/clip-vit-large-patch14-336`); then the CLIP-L/14 defaults apply, at the resolution
/// of `img_size` (490: the position table is interpolated to 35×35+1).
public struct CLIPVisionConfig: Sendable, Hashable, Codable {
  /// Width of the tower (1024 for CLIP-L).
  public var hiddenSize = 1024
  /// MLP width (4096).
  public var intermediateSize = 4096
  /// Encoder layers (24).
  public var numHiddenLayers = 24
  /// Attention heads (16, head dim 64).
  public var numAttentionHeads = 16
  /// Input channels (3).
  public var numChannels = 3
  /// Input resolution in pixels; always overridden by the decoder config's `img_size`.
  public var imageSize = 490
  /// Patch size in pixels (14).
  public var patchSize = 14
  /// Activation (`quick_gelu` for CLIP).
  public var hiddenAct = "quick_gelu"
  /// LayerNorm epsilon (1e-5).
  public var layerNormEps = 1e-5

  enum CodingKeys: String, SnakeCaseCodingKey {
    case hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads, numChannels, imageSize,
      patchSize, hiddenAct, layerNormEps
  }

  /// CLIP-L/14 at `imageSize`.
  public init(imageSize: Int = 490) { self.imageSize = imageSize }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    hiddenSize = try c.decodeIfPresent(Int.self, forKey: .hiddenSize) ?? hiddenSize
    intermediateSize =
      try c.decodeIfPresent(Int.self, forKey: .intermediateSize) ?? intermediateSize
    numHiddenLayers = try c.decodeIfPresent(Int.self, forKey: .numHiddenLayers) ?? numHiddenLayers
    numAttentionHeads =
      try c.decodeIfPresent(Int.self, forKey: .numAttentionHeads) ?? numAttentionHeads
    numChannels = try c.decodeIfPresent(Int.self, forKey: .numChannels) ?? numChannels
    imageSize = try c.decodeIfPresent(Int.self, forKey: .imageSize) ?? imageSize
    patchSize = try c.decodeIfPresent(Int.self, forKey: .patchSize) ?? patchSize
    hiddenAct = try c.decodeIfPresent(String.self, forKey: .hiddenAct) ?? hiddenAct
    layerNormEps = try c.decodeIfPresent(Double.self, forKey: .layerNormEps) ?? layerNormEps
  }

  /// Head width (64 for CLIP-L).
  public var headDim: Int { hiddenSize / numAttentionHeads }
  /// Patches per side (35 at 490 px).
  public var gridSize: Int { imageSize / patchSize }
  /// Patch tokens per image, CLS excluded (1225 at 490 px).
  public var patchCount: Int { gridSize * gridSize }

  func validate(_ check: ConfigValidator) throws {
    try check.visionTower(
      hiddenSize: hiddenSize, intermediateSize: intermediateSize, layers: numHiddenLayers,
      heads: numAttentionHeads, patchSize: patchSize, imageSize: imageSize, wholePatches: true,
      channels: numChannels, layerNormEps: layerNormEps)
    guard hiddenAct == "quick_gelu" || hiddenAct == "gelu" else {
      throw check.fail("hidden_act", "'\(hiddenAct)' is not supported (quick_gelu or gelu)")
    }
  }
}
