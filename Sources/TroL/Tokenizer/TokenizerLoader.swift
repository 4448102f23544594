internal import Foundation
import TrolleyBasics

/// Picks and loads the tokenizer a TroL checkpoint directory was released with.
public enum TokenizerLoader {
  /// The tokenizer implementation a directory needs.
  public enum Kind: String, Sendable {
    /// `tokenizer.model` through transformers' slow `InternLM2Tokenizer` (TroL-1.8B / 7B).
    case sentencePiece
    /// `tokenizer.json` through `LlamaTokenizerFast` (TroL-3.8B).
    case huggingFaceJSON
  }

  public static func load(modelDirectory: String) throws -> any TextTokenizer {
    switch try kind(modelDirectory: modelDirectory) {
    case .sentencePiece: return try SentencePieceTokenizer(directory: modelDirectory)
    case .huggingFaceJSON: return try HFTokenizer(directory: modelDirectory)
    }
  }

  /// InternLM2 configs (`model_type` "internlm"/"internlm2") use `tokenizer.model`; the Phi-3
  /// composite config (`llm_config`) and Phi-3 `model_type`s use `tokenizer.json`. Without a
  /// config, `tokenizer_config.json`'s class decides, then whichever file exists.
  public static func kind(modelDirectory: String) throws -> Kind {
    let fm = FileManager.default
    let hasJSON = fm.fileExists(atPath: modelDirectory + "/tokenizer.json")
    let hasModel = fm.fileExists(atPath: modelDirectory + "/tokenizer.model")
    var preferred: Kind?
    if let config = try TokenizerJSON.readObjectIfPresent(at: modelDirectory + "/config.json") {
      let modelType = (config["model_type"] as? String ?? "").lowercased()
      if config["llm_config"] != nil || modelType.hasPrefix("phi") {
        preferred = .huggingFaceJSON
      } else if modelType.hasPrefix("internlm") {
        preferred = .sentencePiece
      }
    }
    if preferred == nil,
      let tc = try TokenizerJSON.readObjectIfPresent(at: modelDirectory + "/tokenizer_config.json"),
      let cls = tc["tokenizer_class"] as? String
    {
      preferred = cls.hasPrefix("InternLM") ? .sentencePiece : (hasJSON ? .huggingFaceJSON : nil)
    }
    switch preferred ?? (hasJSON ? .huggingFaceJSON : .sentencePiece) {
    case .huggingFaceJSON:
      guard hasJSON else {
        throw TroLError(
          .invalidTokenizer,
          "\(modelDirectory) has a Phi-3 config but no tokenizer.json; copy it from the released model."
        )
      }
      return .huggingFaceJSON
    case .sentencePiece:
      guard hasModel else {
        throw TroLError(
          .invalidTokenizer,
          "\(modelDirectory) has no tokenizer.model (nor a tokenizer.json); copy the tokenizer files from the released model."
        )
      }
      return .sentencePiece
    }
  }
}

extension TokenizerLoader {
  /// The tokenizer of an opened checkpoint directory, chosen by its config's family.
  public static func load(_ directory: ModelDirectory) throws -> any TextTokenizer {
    switch directory.config.tokenizerFile {
    case "tokenizer.json": return try HFTokenizer(directory: directory.path)
    default: return try SentencePieceTokenizer(directory: directory.path)
    }
  }
}
