import TrolleyBasics

/// `vision_config` of TroL-3.8B: InternViT-300M (`InternVisionConfig` fields).
public struct InternViTConfig: Sendable, Hashable, Codable {
  /// Width (1024).
  public var hiddenSize = 1024
  /// MLP width (4096).
  public var intermediateSize = 4096
  /// Encoder layers (24).
  public var numHiddenLayers = 24
  /// Heads (16, head dim 64).
  public var numAttentionHeads = 16
  public var numChannels = 3
  /// Tile resolution (448).
  public var imageSize = 448
  public var patchSize = 14
  /// Whether `attn.qkv` has a bias (true).
  public var qkvBias = true
  /// Whether q and k are normalized per head (false for the 300M model).
  public var qkNormalization = false
  /// `layer_norm` (or `rms_norm` in the 6B model).
  public var normType = "layer_norm"
  /// Norm epsilon (1e-6).
  public var layerNormEps = 1e-6
  /// `gelu` (exact erf).
  public var hiddenAct = "gelu"

  enum CodingKeys: String, SnakeCaseCodingKey {
    case hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads, numChannels, imageSize,
      patchSize, qkvBias, qkNormalization, normType, layerNormEps, hiddenAct
  }

  /// InternViT-300M-448px.
  public init() {}

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
    qkvBias = try c.decodeIfPresent(Bool.self, forKey: .qkvBias) ?? qkvBias
    qkNormalization = try c.decodeIfPresent(Bool.self, forKey: .qkNormalization) ?? qkNormalization
    normType = try c.decodeIfPresent(String.self, forKey: .normType) ?? normType
    layerNormEps = try c.decodeIfPresent(Double.self, forKey: .layerNormEps) ?? layerNormEps
    hiddenAct = try c.decodeIfPresent(String.self, forKey: .hiddenAct) ?? hiddenAct
  }

  /// Head width (64).
  public var headDim: Int { hiddenSize / numAttentionHeads }

  func validate(_ check: ConfigValidator) throws {
    try check.visionTower(
      hiddenSize: hiddenSize, intermediateSize: intermediateSize, layers: numHiddenLayers,
      heads: numAttentionHeads, patchSize: patchSize, imageSize: imageSize, wholePatches: false,
      channels: numChannels, layerNormEps: layerNormEps)
    guard normType == "layer_norm" else {
      throw check.fail("norm_type", "'\(normType)' is not supported (layer_norm)")
    }
    guard !qkNormalization else {
      throw check.fail("qk_normalization", "true is not supported (InternViT-300M has none)")
    }
    guard hiddenAct == "gelu" else {
      throw check.fail("hidden_act", "'\(hiddenAct)' is not supported (gelu)")
    }
  }
}
