import TrolleyBasics

/// config.json of TroL-3.8B: the InternVL-chat style composite `TroLConfig`.
public struct TroLPhi3Config: Sendable, Hashable, Codable {
  /// The Phi-3 decoder (`llm_config`).
  public var llm: Phi3Config
  /// The InternViT tower (`vision_config`).
  public var vision: InternViTConfig
  /// Pixel-shuffle ratio (0.5: 2×2 patches become one token of 4× width).
  public var downsampleRatio = 0.5
  /// Tile resolution the tower runs at (448); falls back to `vision_config.image_size`.
  public var forceImageSize: Int?
  /// Which encoder layer feeds the projector (-1: the last).
  public var selectLayer = -1
  /// Prompt template name (`phi3-chat`).
  public var template: String?
  /// Whether images are split into tiles (true).
  public var dynamicImageSize = true
  /// Whether a thumbnail tile is appended when there are several tiles (true).
  public var useThumbnail = true
  /// Pixel-shuffle version (`v2`: with the final permute).
  public var psVersion = "v2"
  /// Fewest tiles in a grid (1).
  public var minDynamicPatch = 1
  /// Most tiles in a grid (6), thumbnail excluded.
  public var maxDynamicPatch = 6

  enum CodingKeys: String, SnakeCaseCodingKey {
    case downsampleRatio, forceImageSize, selectLayer, template, dynamicImageSize, useThumbnail,
      psVersion, minDynamicPatch, maxDynamicPatch
    case llm = "llm_config"
    case vision = "vision_config"
  }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    llm = try c.decode(Phi3Config.self, forKey: .llm)
    vision = try c.decodeIfPresent(InternViTConfig.self, forKey: .vision) ?? InternViTConfig()
    downsampleRatio =
      try c.decodeIfPresent(Double.self, forKey: .downsampleRatio) ?? downsampleRatio
    forceImageSize = try c.decodeIfPresent(Int.self, forKey: .forceImageSize)
    selectLayer = try c.decodeIfPresent(Int.self, forKey: .selectLayer) ?? selectLayer
    template = try c.decodeIfPresent(String.self, forKey: .template)
    dynamicImageSize =
      try c.decodeIfPresent(Bool.self, forKey: .dynamicImageSize) ?? dynamicImageSize
    useThumbnail = try c.decodeIfPresent(Bool.self, forKey: .useThumbnail) ?? useThumbnail
    psVersion = try c.decodeIfPresent(String.self, forKey: .psVersion) ?? psVersion
    minDynamicPatch = try c.decodeIfPresent(Int.self, forKey: .minDynamicPatch) ?? minDynamicPatch
    maxDynamicPatch = try c.decodeIfPresent(Int.self, forKey: .maxDynamicPatch) ?? maxDynamicPatch
  }

  /// The tile side in pixels (448).
  public var tileSize: Int { forceImageSize ?? vision.imageSize }
  /// Patches per tile side before pixel shuffle (32).
  public var patchGrid: Int { tileSize / vision.patchSize }
  /// Tokens per side after pixel shuffle (16).
  public var shuffledGrid: Int { Int((Double(patchGrid) * downsampleRatio).rounded()) }
  /// Image tokens per tile (256).
  public var tokensPerTile: Int { shuffledGrid * shuffledGrid }
  /// Width of a pixel-shuffled token, the projector's input (4 × 1024).
  public var shuffledWidth: Int {
    Int((Double(vision.hiddenSize) / (downsampleRatio * downsampleRatio)).rounded())
  }

  func validate(_ check: ConfigValidator) throws {
    try llm.validate(check.nested("llm_config"))
    try vision.validate(check.nested("vision_config"))
    if let forceImageSize { try check.positive(forceImageSize, "force_image_size") }
    try check.divides(vision.patchSize, "vision_config.patch_size", tileSize, "force_image_size")
    guard downsampleRatio > 0, downsampleRatio <= 1,
      Double(shuffledGrid) == Double(patchGrid) * downsampleRatio,
      Double(shuffledWidth) == Double(vision.hiddenSize) / (downsampleRatio * downsampleRatio)
    else {
      throw check.fail(
        "downsample_ratio",
        "(\(downsampleRatio)) must split the \(patchGrid)×\(patchGrid) patch grid evenly")
    }
    guard selectLayer == -1 else {
      throw check.fail("select_layer", "\(selectLayer) is not supported (-1, the last layer)")
    }
    guard psVersion == "v2" else {
      throw check.fail("ps_version", "'\(psVersion)' is not supported (v2)")
    }
    try check.positive(minDynamicPatch, "min_dynamic_patch")
    guard maxDynamicPatch >= minDynamicPatch else {
      throw check.fail(
        "max_dynamic_patch",
        "(\(maxDynamicPatch)) must be >= min_dynamic_patch (\(minDynamicPatch))")
    }
  }
}
