import TrolleyBasics

/// `vision_config` of TroL-3.8B: InternViT-300M (`InternVisionConfig` fields).
@dynamicMemberLookup
public struct InternViTConfig: Sendable, Hashable, Codable, SharedConfigFields {
  /// The keys every tower has, read as the config's own (`config.hiddenSize`): ViT-L/14 shape,
  /// 448 px tiles, `gelu` (exact erf), norm epsilon 1e-6.
  public var fields = ViTFields(imageSize: 448, hiddenAct: "gelu", layerNormEps: 1e-6)
  /// Whether `attn.qkv` has a bias (true).
  public var qkvBias = true
  /// Whether q and k are normalized per head (false for the 300M model).
  public var qkNormalization = false
  /// `layer_norm` (or `rms_norm` in the 6B model).
  public var normType = "layer_norm"

  enum CodingKeys: String, SnakeCaseCodingKey {
    case qkvBias, qkNormalization, normType
  }

  /// InternViT-300M-448px.
  public init() {}

  public init(from decoder: any Decoder) throws {
    fields = try ViTFields(from: decoder, defaults: fields)
    let c = try decoder.container(keyedBy: CodingKeys.self)
    qkvBias = try c.decodeIfPresent(Bool.self, forKey: .qkvBias) ?? qkvBias
    qkNormalization = try c.decodeIfPresent(Bool.self, forKey: .qkNormalization) ?? qkNormalization
    normType = try c.decodeIfPresent(String.self, forKey: .normType) ?? normType
  }

  public func encode(to encoder: any Encoder) throws {
    try fields.encode(to: encoder)
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(qkvBias, forKey: .qkvBias)
    try c.encode(qkNormalization, forKey: .qkNormalization)
    try c.encode(normType, forKey: .normType)
  }

  func validate(_ check: ConfigValidator) throws {
    try fields.validate(check, wholePatches: false)
    guard normType == "layer_norm" else {
      throw check.fail("norm_type", "'\(normType)' is not supported (layer_norm)")
    }
    guard !qkNormalization else {
      throw check.fail("qk_normalization", "true is not supported (InternViT-300M has none)")
    }
    guard fields.hiddenAct == "gelu" else {
      throw check.fail("hidden_act", "'\(fields.hiddenAct)' is not supported (gelu)")
    }
  }
}
