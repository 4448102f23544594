internal import Foundation
import TrolleyBasics

/// A TroL checkpoint folder in the released layout (`BK-Lee/TroL-1.8B`, `-3.8B`, `-7B`):
/// config.json, model.safetensors, trol_gating.pt and the tokenizer files.
///
/// Opening checks that every required file exists (with an error saying what to do if not),
/// decodes the config and maps the weights; the gate is read on demand.
public struct ModelDirectory: Sendable {
  /// The folder.
  public let path: String
  /// The decoded, validated config.json.
  public let config: ModelConfig
  /// The memory-mapped model.safetensors.
  public let weights: SafeTensorsFile

  /// Opens `path`.
  ///
  /// - Throws: `TroLError.io` naming the missing file and how to get a model folder;
  ///   `TroLError.invalidConfig` / `.invalidCheckpoint` for malformed files.
  public init(path: String) throws {
    self.path = path
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory),
      isDirectory.boolValue
    else {
      throw TroLError(.io, "\(path) is not a folder: \(Self.advice)")
    }
    if !FileManager.default.fileExists(atPath: Self.join(path, "model.safetensors")),
      FileManager.default.fileExists(atPath: Self.join(path, "model.safetensors.index.json"))
    {
      throw TroLError(
        .invalidCheckpoint,
        "\(path) holds a sharded checkpoint (model.safetensors.index.json); the released TroL checkpoints are one model.safetensors file: \(Self.advice)"
      )
    }
    for name in ["config.json", "model.safetensors", "trol_gating.pt"] {
      try Self.require(name, in: path)
    }
    config = try ModelConfig.load(path: Self.join(path, "config.json"))
    try Self.require(config.tokenizerFile, in: path)
    weights = try SafeTensorsFile(path: Self.join(path, "model.safetensors"))
  }

  /// config.json.
  public var configPath: String { Self.join(path, "config.json") }
  /// model.safetensors.
  public var weightsPath: String { Self.join(path, "model.safetensors") }
  /// trol_gating.pt.
  public var gatePath: String { Self.join(path, "trol_gating.pt") }
  /// tokenizer.model (SentencePiece): required for InternLM2, optional for Phi-3.
  public var sentencePieceModelPath: String? { existing("tokenizer.model") }
  /// tokenizer.json (Hugging Face): required for Phi-3.
  public var tokenizerJSONPath: String? { existing("tokenizer.json") }
  /// tokenizer_config.json, if present (added tokens' flags).
  public var tokenizerConfigPath: String? { existing("tokenizer_config.json") }
  /// added_tokens.json, if present.
  public var addedTokensPath: String? { existing("added_tokens.json") }
  /// special_tokens_map.json, if present.
  public var specialTokensMapPath: String? { existing("special_tokens_map.json") }

  /// Reads trol_gating.pt and checks it against the config (D and the layer count).
  ///
  /// - Throws: the errors of `TroLGate.load(path:hiddenSize:layers:)`.
  public func gate() throws -> TroLGate {
    try TroLGate.load(
      path: gatePath, hiddenSize: config.decoder.hiddenSize, layers: config.decoder.layers)
  }

  static let advice =
    "point --model at a TroL checkpoint folder (BK-Lee/TroL-1.8B layout: config.json, model.safetensors, trol_gating.pt, tokenizer files) or make one with `trolley model synth --like tiny --out DIR`"

  private func existing(_ name: String) -> String? {
    let file = Self.join(path, name)
    return FileManager.default.fileExists(atPath: file) ? file : nil
  }

  private static func require(_ name: String, in folder: String) throws {
    guard FileManager.default.fileExists(atPath: join(folder, name)) else {
      throw TroLError(.io, "no \(name) in \(folder): \(advice)")
    }
  }

  static func join(_ folder: String, _ name: String) -> String {
    folder.hasSuffix("/") ? folder + name : folder + "/" + name
  }
}
