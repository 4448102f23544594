import TrolleyBasics

/// config.json of the InternLM2 family (TroL-1.8B, TroL-7B): the decoder, plus the CLIP tower.
///
/// Field defaults are those of `InternLM2Config` for keys the released files may omit.
@dynamicMemberLookup
public struct InternLM2Config: Sendable, Hashable, Codable, SharedConfigFields {
  /// RoPE scaling as written in the config (`{"type": "dynamic", "factor": 2.0}`).
  public struct RopeScaling: Sendable, Hashable, Codable {
    /// `dynamic` (NTK, only beyond `max_position_embeddings`) or `linear`.
    public var type: String
    /// The scaling factor.
    public var factor: Double
  }

  /// `internlm` (or `internlm2`): how config.json says it is this family.
  public var modelType: String
  /// The decoder keys shared with Phi-3, read as this config's own (`config.hiddenSize`);
  /// defaults of HF `InternLM2Config`: RMSNorm epsilon 1e-6, 2048 positions. The released files
  /// give 1e-5 and 32768, RoPE base 1e6.
  public var fields: DecoderFields
  /// RoPE scaling, or nil.
  public var ropeScaling: RopeScaling?
  /// Whether projections have biases (false in TroL).
  public var bias: Bool
  /// Side of the square input image in pixels (490); never read by the official code, which
  /// hard-codes 490, but the tiny fixtures use it.
  public var imgSize: Int
  /// The CLIP tower: `vision_config` if present, else CLIP-L/14 at `img_size`.
  public var vision: CLIPVisionConfig

  /// Rank of every Partial-LoRA adapter (hard-coded in the official code; alpha = rank).
  public static let ploraRank = 256

  enum CodingKeys: String, SnakeCaseCodingKey {
    case modelType, ropeScaling, bias, imgSize
    case vision = "vision_config"
  }

  public init(from decoder: any Decoder) throws {
    fields = try DecoderFields(from: decoder, rmsNormEps: 1e-6, maxPositionEmbeddings: 2048)
    let c = try decoder.container(keyedBy: CodingKeys.self)
    modelType = try c.decodeIfPresent(String.self, forKey: .modelType) ?? "internlm"
    ropeScaling = try c.decodeIfPresent(RopeScaling.self, forKey: .ropeScaling)
    bias = try c.decodeIfPresent(Bool.self, forKey: .bias) ?? true
    imgSize = try c.decodeIfPresent(Int.self, forKey: .imgSize) ?? 490
    if var vision = try c.decodeIfPresent(CLIPVisionConfig.self, forKey: .vision) {
      // `img_size` is the run-time resolution; the tower follows it.
      vision.imageSize = imgSize
      self.vision = vision
    } else {
      vision = CLIPVisionConfig(imageSize: imgSize)
    }
  }

  public func encode(to encoder: any Encoder) throws {
    try fields.encode(to: encoder)
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(modelType, forKey: .modelType)
    try c.encodeIfPresent(ropeScaling, forKey: .ropeScaling)
    try c.encode(bias, forKey: .bias)
    try c.encode(imgSize, forKey: .imgSize)
    try c.encode(vision, forKey: .vision)
  }

  /// Image tokens per image: (img_size / patch)² (1225 at 490 px).
  public var imageTokens: Int { vision.patchCount }

  func validate(_ check: ConfigValidator) throws {
    try fields.validateDimensions(check)
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
    // The embedding table has one row more than the head: `<image>`.
    try fields.validateActivationAndTokens(check, embeddingRows: fields.vocabSize + 1)
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
