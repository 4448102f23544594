internal import Foundation
import TrolleyBasics

/// A TroL model's config.json, decoded and validated once: the family, the dimensions every part
/// needs, and the family's own config (`internLM2`, `phi3`).
///
/// The engine, `model inspect` and `model synth` all read this one value: there is no second
/// parse of config.json anywhere. The summary's fields read directly (`config.decoder`,
/// `config.imageSize`...).
@dynamicMemberLookup
public struct ModelConfig: Sendable, Hashable, Encodable {
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

  /// What every family reports about itself.
  public struct Summary: Sendable, Hashable {
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
  }

  /// The family's own config (one of `Family.registered`).
  let details: any FamilyConfig
  /// False when config.json says `"trol_traversal": false` (a model Trolley trained without
  /// traversal): its default traversal mode is then `off`.
  public let trainedWithTraversal: Bool

  init(_ details: any FamilyConfig, trainedWithTraversal: Bool = true) {
    self.details = details
    self.trainedWithTraversal = trainedWithTraversal
  }

  /// The traversal a run uses unless told otherwise: how the model was trained.
  public var defaultTraversal: TraversalMode { trainedWithTraversal ? .all : .off }

  public var family: Family { type(of: details).family }
  public var summary: Summary { details.summary }

  public subscript<Value>(dynamicMember field: KeyPath<Summary, Value>) -> Value {
    summary[keyPath: field]
  }

  /// Every tensor model.safetensors holds for this config, with shapes and dtypes.
  public var tensors: [CheckpointTensor] { details.tensors }
  /// The tokenizer file this family needs.
  public var tokenizerFile: String { type(of: details).tokenizerFile }
  /// The prompt template.
  public var template: ChatTemplate { type(of: details).template }
  /// One line describing the layout.
  public var title: String { type(of: details).title }

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
    let probe: ConfigProbe
    do {
      probe = try JSONDecoder().decode(ConfigProbe.self, from: data)
    } catch let error as DecodingError {
      throw TroLError(.invalidConfig, "\(source): \(error.summary)")
    } catch {
      throw TroLError(.invalidConfig, "\(source): not a JSON object (\(error))")
    }
    guard let family = Family.recognizing(probe) else {
      throw check.fail(
        "model_type",
        "is \(probe.modelType.map { "'\($0)'" } ?? "missing"): not a TroL config (expected 'internlm' for TroL-1.8B/7B or an 'llm_config' object for TroL-3.8B)"
      )
    }
    self.init(
      try Self.decode(family, data, check: check, source: source),
      trainedWithTraversal: probe.trolTraversal ?? true)
  }

  private static func decode<Config: FamilyConfig>(
    _ type: Config.Type, _ data: Data, check: ConfigValidator, source: String
  ) throws -> Config {
    do {
      let config = try JSONDecoder().decode(Config.self, from: data)
      try config.validate(check)
      return config
    } catch let error as DecodingError {
      throw TroLError(.invalidConfig, "\(source): \(error.summary)")
    } catch let error as TroLError {
      throw error
    } catch {
      throw TroLError(.invalidConfig, "\(source): \(error)")
    }
  }

  public static func == (lhs: ModelConfig, rhs: ModelConfig) -> Bool {
    AnyHashable(lhs.details) == AnyHashable(rhs.details)
      && lhs.trainedWithTraversal == rhs.trainedWithTraversal
  }

  public func hash(into hasher: inout Hasher) {
    hasher.combine(AnyHashable(details))
    hasher.combine(trainedWithTraversal)
  }

  /// Encodes the family's config with config.json's keys (every field, defaults included).
  public func encode(to encoder: any Encoder) throws {
    try details.encode(to: encoder)
  }

  /// The config as config.json text, every field written out (sorted keys).
  public var json: String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    // Plain structs of numbers, strings and flags: encoding cannot fail.
    guard let data = try? encoder.encode(self) else { return "{}" }
    return String(decoding: data, as: UTF8.self) + "\n"
  }
}
