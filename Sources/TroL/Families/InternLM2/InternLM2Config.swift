import TrolleyBasics

/// config.json of the InternLM2 family (TroL-1.8B, TroL-7B): the decoder, plus the CLIP tower.
///
/// Field defaults are those of `InternLM2Config` for keys the released files may omit.
public struct InternLM2Config: Sendable, Hashable, Codable {
  /// RoPE scaling as written in the config (`{"type": "dynamic", "factor": 2.0}`).
  public struct RopeScaling: Sendable, Hashable, Codable {
    /// `dynamic` (NTK, only beyond `max_position_embeddings`) or `linear`.
    public var type: String
    /// The scaling factor.
    public var factor: Double
  }

  /// `internlm` (or `internlm2`): how config.json says it is this family.
  public var modelType: String
  /// D, the decoder width (2048 for 1.8B, 4096 for 7B).
  public var hiddenSize: Int
  /// I, the SwiGLU width.
  public var intermediateSize: Int
  /// Decoder layers.
  public var numHiddenLayers: Int
  /// H, query heads.
  public var numAttentionHeads: Int
  /// KV heads (8 in the released models); defaults to H.
  public var numKeyValueHeads: Int
  /// Rows of the LM head (92544); the embedding table has one more row for `<image>`.
  public var vocabSize: Int
  /// RMSNorm epsilon (1e-5 in the released configs).
  public var rmsNormEps: Double
  /// RoPE base (1e6).
  public var ropeTheta: Double
  /// RoPE scaling, or nil.
  public var ropeScaling: RopeScaling?
  /// Positions the model was trained for (32768).
  public var maxPositionEmbeddings: Int
  /// Whether projections have biases (false in TroL).
  public var bias: Bool
  /// Activation of the MLP (`silu`).
  public var hiddenAct: String
  /// Whether the LM head shares the embedding table (false).
  public var tieWordEmbeddings: Bool
  public var bosTokenId: Int?
  public var eosTokenId: Int?
  public var padTokenId: Int?
  /// Side of the square input image in pixels (490); never read by the official code, which
  /// hard-codes 490, but the tiny fixtures use it.
  public var imgSize: Int
  /// The CLIP tower: `vision_config` if present, else CLIP-L/14 at `img_size`.
  public var vision: CLIPVisionConfig

  /// Rank of every Partial-LoRA adapter (hard-coded in the official code; alpha = rank).
  public static let ploraRank = 256

  enum CodingKeys: String, SnakeCaseCodingKey {
    case modelType, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads,
      numKeyValueHeads, vocabSize, rmsNormEps, ropeTheta, ropeScaling, maxPositionEmbeddings, bias,
      hiddenAct, tieWordEmbeddings, bosTokenId, eosTokenId, padTokenId, imgSize
    case vision = "vision_config"
  }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    modelType = try c.decodeIfPresent(String.self, forKey: .modelType) ?? "internlm"
    hiddenSize = try c.decode(Int.self, forKey: .hiddenSize)
    intermediateSize = try c.decode(Int.self, forKey: .intermediateSize)
    numHiddenLayers = try c.decode(Int.self, forKey: .numHiddenLayers)
    numAttentionHeads = try c.decode(Int.self, forKey: .numAttentionHeads)
    numKeyValueHeads =
      try c.decodeIfPresent(Int.self, forKey: .numKeyValueHeads) ?? numAttentionHeads
    vocabSize = try c.decode(Int.self, forKey: .vocabSize)
    rmsNormEps = try c.decodeIfPresent(Double.self, forKey: .rmsNormEps) ?? 1e-6
    ropeTheta = try c.decodeIfPresent(Double.self, forKey: .ropeTheta) ?? 10000
    ropeScaling = try c.decodeIfPresent(RopeScaling.self, forKey: .ropeScaling)
    maxPositionEmbeddings = try c.decodeIfPresent(Int.self, forKey: .maxPositionEmbeddings) ?? 2048
    bias = try c.decodeIfPresent(Bool.self, forKey: .bias) ?? true
    hiddenAct = try c.decodeIfPresent(String.self, forKey: .hiddenAct) ?? "silu"
    tieWordEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings) ?? false
    bosTokenId = try c.decodeIfPresent(ConfigTokenID.self, forKey: .bosTokenId)?.value
    eosTokenId = try c.decodeIfPresent(ConfigTokenID.self, forKey: .eosTokenId)?.value
    padTokenId = try c.decodeIfPresent(ConfigTokenID.self, forKey: .padTokenId)?.value
    imgSize = try c.decodeIfPresent(Int.self, forKey: .imgSize) ?? 490
    if var vision = try c.decodeIfPresent(CLIPVisionConfig.self, forKey: .vision) {
      // `img_size` is the run-time resolution; the tower follows it.
      vision.imageSize = imgSize
      self.vision = vision
    } else {
      vision = CLIPVisionConfig(imageSize: imgSize)
    }
  }

  /// Head width (128 in the released models).
  public var headDim: Int { hiddenSize / numAttentionHeads }
  /// Query heads per KV head.
  public var groupSize: Int { numAttentionHeads / numKeyValueHeads }
  /// Image tokens per image: (img_size / patch)² (1225 at 490 px).
  public var imageTokens: Int { vision.patchCount }

  func validate(_ check: ConfigValidator) throws {
    try check.decoder(
      hiddenSize: hiddenSize, intermediateSize: intermediateSize, layers: numHiddenLayers,
      heads: numAttentionHeads, kvHeads: numKeyValueHeads, vocabSize: vocabSize,
      rmsNormEps: rmsNormEps, ropeTheta: ropeTheta, maxPositions: maxPositionEmbeddings)
    try check.positive(imgSize, "img_size")
    if let ropeScaling {
      guard ropeScaling.type == "dynamic" || ropeScaling.type == "linear" else {
        throw check.fail(
          "rope_scaling.type", "'\(ropeScaling.type)' is not supported (dynamic or linear)")
      }
      guard ropeScaling.factor >= 1, ropeScaling.factor.isFinite else {
        throw check.fail("rope_scaling.factor", "must be >= 1, got \(ropeScaling.factor)")
      }
    }
    guard !bias else { throw check.fail("bias", "is true; TroL's InternLM2 decoder has no biases") }
    guard hiddenAct == "silu" else {
      throw check.fail("hidden_act", "'\(hiddenAct)' is not supported (silu)")
    }
    // The embedding table has one row more than the head: `<image>`.
    try check.tokenIDs(
      bos: bosTokenId, eos: eosTokenId, pad: padTokenId, rows: vocabSize + 1, vocabSize: vocabSize)
    guard vision.patchSize > 0 else {
      throw check.fail("vision_config.patch_size", "must be positive, got \(vision.patchSize)")
    }
    guard imgSize % vision.patchSize == 0 else {
      throw check.fail(
        "img_size", "(\(imgSize)) must be a multiple of the patch size \(vision.patchSize)")
    }
    try vision.validate(check.nested("vision_config"))
  }
}
