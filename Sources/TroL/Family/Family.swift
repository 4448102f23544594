/// A TroL architecture: which decoder, vision tower and projector a checkpoint holds.
///
/// Each family lives in one folder (`Families/<Name>/`) whose config type conforms to
/// `FamilyConfig`; `Family.registered` lists them. Adding a family is that folder plus one line
/// in `registered`: the loader, `model inspect`, `model synth` and the engine only ever go through
/// the `FamilyConfig` requirements.
public struct Family: Hashable, Sendable, Codable, CustomStringConvertible {
  /// The name written in reports (`internlm2`, `phi3`).
  public let rawValue: String

  public init(rawValue: String) { self.rawValue = rawValue }

  /// Every family, in the order config.json is offered to them. Register new families here.
  static let registered: [any FamilyConfig.Type] = [InternLM2Config.self, TroLPhi3Config.self]

  /// The registered family whose config matches `probe`, if any.
  static func recognizing(_ probe: ConfigProbe) -> (any FamilyConfig.Type)? {
    registered.first { $0.recognizes(probe) }
  }

  public var description: String { rawValue }

  public init(from decoder: any Decoder) throws {
    rawValue = try decoder.singleValueContainer().decode(String.self)
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(rawValue)
  }
}

/// The top-level keys of a config.json that tell the families apart.
struct ConfigProbe: Decodable {
  let modelType: String?
  let hasLLMConfig: Bool
  /// Trolley's own key: false in a model trained without layer traversal (`train start
  /// --no-traversal`), which answers correctly only without it.
  let trolTraversal: Bool?

  enum CodingKeys: String, CodingKey {
    case modelType = "model_type"
    case llmConfig = "llm_config"
    case trolTraversal = "trol_traversal"
  }

  init(from decoder: any Swift.Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    modelType = try c.decodeIfPresent(String.self, forKey: .modelType)
    hasLLMConfig = c.contains(.llmConfig)
    trolTraversal = try c.decodeIfPresent(Bool.self, forKey: .trolTraversal)
  }
}

/// The decoder and image encoder a family builds from a checkpoint.
struct FamilyModules: Sendable {
  let decoder: any DecoderModel
  let encoder: any ImageEncoder
  /// `</s>`: the config's id, or the family's usual one when it names none.
  let eosTokenID: Int
  /// The image placeholder id.
  let imageTokenID: Int
}

/// One family's validated config.json, and everything that follows from it: the checkpoint's
/// tensor list, the tokenizer, prompt template and image preprocessing, and the modules to load.
///
/// The config is decoded once per model load (`ModelConfig(json:source:)`); the same value is what
/// `model inspect` reports and what the engine's layers read.
protocol FamilyConfig: Sendable, Hashable, Codable {
  /// The family's name.
  static var family: Family { get }
  /// One line for `model inspect` (the layout in words).
  static var title: String { get }
  /// Whether a config.json with these top-level keys belongs to this family.
  static func recognizes(_ probe: ConfigProbe) -> Bool
  /// Checks every value; throws `TroLError.invalidConfig` naming the key.
  func validate(_ check: ConfigValidator) throws
  /// The dimensions every family reports.
  var summary: ModelConfig.Summary { get }
  /// Every tensor of model.safetensors, in the released order of parts (decoder, embeddings and
  /// head, vision tower, projector), with shape, dtype and synthetic initialisation.
  var tensors: [CheckpointTensor] { get }
  /// The tokenizer file the family needs (`tokenizer.model` or `tokenizer.json`).
  static var tokenizerFile: String { get }
  /// The chat template the family was trained with.
  static var template: ChatTemplate { get }
  /// The image preprocessing the vision tower expects.
  var preprocessor: ImagePreprocessor { get }
  /// Loads the decoder, tower and projector from `loader` (which checks every request against
  /// `tensors`).
  func modules(loader: WeightLoader, gate: TroLGate, imageTokenID: Int?) throws -> FamilyModules
}
