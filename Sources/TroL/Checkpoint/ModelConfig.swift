internal import Foundation

/// A TroL model's config.json: the family, the dimensions every part needs, and the
/// family-specific details.
public struct ModelConfig: Sendable, Hashable {
  /// The two architectures TroL ships.
  public enum Family: String, Sendable, Hashable, CaseIterable, Codable {
    /// TroL-1.8B / 7B: InternLM2 with Partial-LoRA, CLIP ViT-L/14, one 490 px image.
    case internLM2 = "internlm2"
    /// TroL-3.8B: Phi-3-mini, InternViT-300M, dynamic 448 px tiles.
    case phi3
  }

  /// Decoder dimensions (the legend's D, I, layers, H, Hkv, Dh, V).
  public struct Decoder: Sendable, Hashable, Codable {
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var layers: Int
    public var heads: Int
    public var kvHeads: Int
    public var headDim: Int
    /// Rows of the LM head.
    public var vocabSize: Int
    public var rmsNormEps: Double
    public var ropeTheta: Double
    public var maxPositionEmbeddings: Int
  }

  /// Vision tower dimensions.
  public struct Vision: Sendable, Hashable, Codable {
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var layers: Int
    public var heads: Int
    public var headDim: Int
    public var patchSize: Int
    /// Input side in pixels (the image for InternLM2, one tile for Phi-3).
    public var imageSize: Int
    public var layerNormEps: Double
    /// `quick_gelu` (CLIP) or `gelu` (InternViT).
    public var hiddenAct: String
  }

  public var family: Family
  public var decoder: Decoder
  public var vision: Vision
  /// Side of the square input the tower sees, in pixels: 490 (InternLM2), 448 per tile (Phi-3).
  public var imageSize: Int
  /// Image tokens per image (InternLM2: 1225) or per tile (Phi-3: 256).
  public var imageTokensPerTile: Int
  /// Most tiles per image, thumbnail included (1 for InternLM2; 7 for Phi-3).
  public var maxTilesPerImage: Int
  public var bosTokenId: Int?
  public var eosTokenId: Int?
  public var padTokenId: Int?
  /// The full InternLM2 config (nil for Phi-3).
  public var internLM2: InternLM2Config?
  /// The full TroL-3.8B config (nil for InternLM2).
  public var phi3: TroLPhi3Config?

  /// Reads and validates `path` (a config.json).
  ///
  /// - Throws: `TroLError.invalidConfig` naming the file and the key that is missing, of the
  ///   wrong type or out of range; `TroLError.io` if it cannot be read.
  public static func load(path: String) throws -> ModelConfig {
    let data: Data
    do {
      data = try Data(contentsOf: URL(fileURLWithPath: path))
    } catch {
      throw TroLError(.io, "cannot read \(path): \(error.localizedDescription)")
    }
    return try ModelConfig(json: [UInt8](data), source: path)
  }

  /// Decodes and validates config.json contents.
  ///
  /// - Parameters:
  ///   - json: the file's bytes.
  ///   - source: the name used in error messages.
  /// - Throws: `TroLError.invalidConfig`.
  public init(json: [UInt8], source: String) throws {
    let data = Data(json)
    let check = ConfigValidator(source: source)
    let probe: Probe
    do {
      probe = try JSONDecoder().decode(Probe.self, from: data)
    } catch let error as DecodingError {
      throw TroLError(.invalidConfig, "\(source): \(error.summary)")
    } catch {
      throw TroLError(.invalidConfig, "\(source): not a JSON object (\(error))")
    }
    do {
      if probe.hasLLMConfig {
        let config = try JSONDecoder().decode(TroLPhi3Config.self, from: data)
        try config.validate(check)
        self.init(phi3: config)
      } else if probe.modelType == "internlm" || probe.modelType == "internlm2" {
        let config = try JSONDecoder().decode(InternLM2Config.self, from: data)
        try config.validate(check)
        self.init(internLM2: config)
      } else {
        throw check.fail(
          "model_type",
          "is \(probe.modelType.map { "'\($0)'" } ?? "missing"): not a TroL config (expected 'internlm' for TroL-1.8B/7B or an 'llm_config' object for TroL-3.8B)"
        )
      }
    } catch let error as DecodingError {
      throw TroLError(.invalidConfig, "\(source): \(error.summary)")
    } catch let error as TroLError {
      throw error
    } catch {
      throw TroLError(.invalidConfig, "\(source): \(error)")
    }
  }

  /// The summary of an InternLM2-family config.
  public init(internLM2 c: InternLM2Config) {
    family = .internLM2
    decoder = Decoder(
      hiddenSize: c.hiddenSize, intermediateSize: c.intermediateSize, layers: c.numHiddenLayers,
      heads: c.numAttentionHeads, kvHeads: c.numKeyValueHeads, headDim: c.headDim,
      vocabSize: c.vocabSize,
      rmsNormEps: c.rmsNormEps, ropeTheta: c.ropeTheta,
      maxPositionEmbeddings: c.maxPositionEmbeddings)
    let v = c.vision
    vision = Vision(
      hiddenSize: v.hiddenSize, intermediateSize: v.intermediateSize, layers: v.numHiddenLayers,
      heads: v.numAttentionHeads, headDim: v.headDim, patchSize: v.patchSize,
      imageSize: v.imageSize,
      layerNormEps: v.layerNormEps, hiddenAct: v.hiddenAct)
    imageSize = c.imgSize
    imageTokensPerTile = c.imageTokens
    maxTilesPerImage = 1
    bosTokenId = c.bosTokenId
    eosTokenId = c.eosTokenId
    padTokenId = c.padTokenId
    internLM2 = c
    phi3 = nil
  }

  /// The summary of a TroL-3.8B config.
  public init(phi3 c: TroLPhi3Config) {
    family = .phi3
    let l = c.llm
    decoder = Decoder(
      hiddenSize: l.hiddenSize, intermediateSize: l.intermediateSize, layers: l.numHiddenLayers,
      heads: l.numAttentionHeads, kvHeads: l.numKeyValueHeads, headDim: l.headDim,
      vocabSize: l.vocabSize,
      rmsNormEps: l.rmsNormEps, ropeTheta: l.ropeTheta,
      maxPositionEmbeddings: l.maxPositionEmbeddings)
    let v = c.vision
    vision = Vision(
      hiddenSize: v.hiddenSize, intermediateSize: v.intermediateSize, layers: v.numHiddenLayers,
      heads: v.numAttentionHeads, headDim: v.headDim, patchSize: v.patchSize, imageSize: c.tileSize,
      layerNormEps: v.layerNormEps, hiddenAct: v.hiddenAct)
    imageSize = c.tileSize
    imageTokensPerTile = c.tokensPerTile
    maxTilesPerImage =
      c.dynamicImageSize ? c.maxDynamicPatch + (c.useThumbnail && c.maxDynamicPatch > 1 ? 1 : 0) : 1
    bosTokenId = l.bosTokenId
    eosTokenId = l.eosTokenId
    padTokenId = l.padTokenId
    internLM2 = nil
    phi3 = c
  }

  private struct Probe: Decodable {
    let modelType: String?
    let hasLLMConfig: Bool

    enum CodingKeys: String, CodingKey {
      case modelType = "model_type"
      case llmConfig = "llm_config"
    }

    init(from decoder: any Swift.Decoder) throws {
      let c = try decoder.container(keyedBy: CodingKeys.self)
      modelType = try c.decodeIfPresent(String.self, forKey: .modelType)
      hasLLMConfig = c.contains(.llmConfig)
    }
  }
}
