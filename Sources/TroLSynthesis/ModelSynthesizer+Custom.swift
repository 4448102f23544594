internal import Foundation
internal import TroL
import TrolleyBasics

extension ModelSynthesizer {
  /// Dimensions of a custom InternLM2-family model (`model synth --like tiny` with overrides):
  /// the TroL-1.8B layout at whatever small size a from-scratch training run wants. Every field
  /// left nil keeps the tiny shape's value.
  public struct Dimensions: Sendable, Equatable {
    public var hidden: Int?
    public var layers: Int?
    public var heads: Int?
    public var kvHeads: Int?
    public var intermediate: Int?
    public var imageSize: Int?
    public var patchSize: Int?
    public var visionHidden: Int?
    public var visionLayers: Int?
    public var visionHeads: Int?
    public var visionIntermediate: Int?

    public init(
      hidden: Int? = nil, layers: Int? = nil, heads: Int? = nil, kvHeads: Int? = nil,
      intermediate: Int? = nil, imageSize: Int? = nil, patchSize: Int? = nil,
      visionHidden: Int? = nil, visionLayers: Int? = nil, visionHeads: Int? = nil,
      visionIntermediate: Int? = nil
    ) {
      self.hidden = hidden
      self.layers = layers
      self.heads = heads
      self.kvHeads = kvHeads
      self.intermediate = intermediate
      self.imageSize = imageSize
      self.patchSize = patchSize
      self.visionHidden = visionHidden
      self.visionLayers = visionLayers
      self.visionHeads = visionHeads
      self.visionIntermediate = visionIntermediate
    }

    /// True when no field is set.
    public var isEmpty: Bool { self == Dimensions() }
  }

  /// How the weights start.
  public enum Initialization: String, Sendable, CaseIterable {
    /// Plausible scales for inference demos and benchmarks (the shapes' historic default).
    case demo
    /// For training from scratch: PLoRA's B at zero (PLoRA is frozen in every trainable set, so
    /// it must start as no correction, as a fresh PEFT adapter does) and an LM head of std 1/√D
    /// (unit-scale logits on the RMS-normed state, so the first loss is near ln(vocab)).
    case scratch
  }

  /// Writes a custom-sized InternLM2-family checkpoint: the tiny shape with `dimensions`
  /// overriding its sizes, the tokenizer files of `tokenizerDirectory` when given (their
  /// vocabulary decides `vocab_size`), and weights started as `initialization` says.
  ///
  /// - Throws: `TroLError.invalidRequest` for sizes the config validation refuses (heads that do
  ///   not divide the width, an image size that is not a multiple of the patch size, ...) or a
  ///   tokenizer folder without its files; `TroLError.io` when a file cannot be read or written.
  public static func write(
    custom dimensions: Dimensions, to directory: String, seed: UInt64,
    tokenizerDirectory: String? = nil, initialization: Initialization = .demo,
    progress: (_ written: Int64, _ total: Int64) -> Void = { _, _ in }
  ) throws {
    var tokenizer: [(String, Data)] = []
    var vocabulary = 520
    if let tokenizerDirectory {
      (tokenizer, vocabulary) = try tokenizerFiles(copiedFrom: tokenizerDirectory)
    } else {
      tokenizer = tokenizerFiles(.tiny, vocabulary: vocabulary)
    }
    let d = dimensions
    let hidden = d.hidden ?? 64
    let visionHidden = d.visionHidden ?? 32
    let configText = internLM2ConfigText(
      hidden: hidden, heads: d.heads ?? 4, kvHeads: d.kvHeads ?? 2, layers: d.layers ?? 3,
      intermediate: d.intermediate ?? 160, vocabulary: vocabulary, ropeFactor: 2,
      vision: (
        imageSize: d.imageSize ?? 56, hidden: visionHidden, layers: d.visionLayers ?? 2,
        heads: d.visionHeads ?? 2, intermediate: d.visionIntermediate ?? 2 * visionHidden
      ), patchSize: d.patchSize ?? 14)
    let config = try ModelConfig(
      json: Array(configText.utf8), source: "model synth --like tiny with custom dimensions")
    var tensors = config.tensors
    if initialization == .scratch {
      tensors = tensors.map { tensor in
        var tensor = tensor
        if tensor.name.hasSuffix(".lora_B.weight") {
          tensor.initialization = .constant(0)
        } else if tensor.name == "output.weight" {
          tensor.initialization = .random(std: 1 / Float(hidden).squareRoot())
        }
        return tensor
      }
    }
    try writeFolder(
      directory, configText: configText, config: config, tensors: tensors, tokenizer: tokenizer,
      seed: seed, progress: progress)
  }

  /// The four tokenizer files of an InternLM2-family folder, and its vocabulary size: the id of
  /// `<image>` in added_tokens.json (the added token sits right after the SentencePiece pieces).
  static func tokenizerFiles(copiedFrom folder: String) throws -> ([(String, Data)], Int) {
    let names = [
      "tokenizer.model", "added_tokens.json", "tokenizer_config.json", "special_tokens_map.json",
    ]
    var files: [(String, Data)] = []
    for name in names {
      let file = (folder as NSString).appendingPathComponent(name)
      guard let data = FileManager.default.contents(atPath: file) else {
        throw TroLError(
          .invalidRequest,
          "--tokenizer \(folder) has no \(name): give a TroL-1.8B-layout folder with tokenizer.model, added_tokens.json, tokenizer_config.json and special_tokens_map.json"
        )
      }
      files.append((name, data))
    }
    let added = files[1].1
    guard
      let object = try? JSONSerialization.jsonObject(with: added) as? [String: Any],
      let image = object["<image>"] as? Int, image > 2
    else {
      throw TroLError(
        .invalidRequest,
        "\(folder)/added_tokens.json must map \"<image>\" to its id (the SentencePiece vocabulary size)"
      )
    }
    return (files, image)
  }
}
