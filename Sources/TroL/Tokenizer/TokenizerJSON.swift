import Foundation
import TrolleyBasics

/// Reading the JSON files that come with Hugging Face tokenizers, with errors that name the file.
enum TokenizerJSON {
  static func readBytes(at path: String) throws -> [UInt8] {
    let bytes: [UInt8]
    do {
      bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    } catch {
      throw TroLError(
        .io, "Cannot read \(path): \(error.localizedDescription). Check the model directory.")
    }
    try bytes.withUnsafeBytes { try GitLFSPointer.check($0, path: path) }
    return bytes
  }

  static func readObject(at path: String) throws -> [String: Any] {
    let data: Data
    do {
      data = try Data(contentsOf: URL(fileURLWithPath: path))
    } catch {
      throw TroLError(.io, "Cannot read \(path): \(error.localizedDescription).")
    }
    try data.withUnsafeBytes { try GitLFSPointer.check($0, path: path) }
    let value: Any
    do {
      value = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
    } catch {
      throw TroLError(
        .invalidTokenizer, "\(path) is not valid JSON: \(error.localizedDescription).")
    }
    guard let object = value as? [String: Any] else {
      throw TroLError(.invalidTokenizer, "\(path) must hold a JSON object.")
    }
    return object
  }

  static func readObjectIfPresent(at path: String) throws -> [String: Any]? {
    FileManager.default.fileExists(atPath: path) ? try readObject(at: path) : nil
  }

  /// Ids index tables sized by the largest id, so a corrupt file must not name a huge one.
  static let maximumID = 1 << 24

  static func isPlausibleID(_ id: Int) -> Bool { id >= 0 && id < maximumID }

  static func bool(_ value: Any?) -> Bool? {
    if let b = value as? Bool { return b }
    if let n = value as? NSNumber { return n.boolValue }
    return nil
  }

  static func int(_ value: Any?) -> Int? {
    if let n = value as? Int { return n }
    if let n = value as? NSNumber { return n.intValue }
    return nil
  }

  /// A special-token entry: a plain string or an `AddedToken` object with "content".
  static func tokenContent(_ value: Any?) -> String? {
    if let s = value as? String { return s }
    if let d = value as? [String: Any] { return d["content"] as? String }
    return nil
  }

  /// The `AddedToken` flags of an object form; `defaultNormalized` for a missing "normalized".
  static func addedToken(
    _ object: [String: Any], id: Int, defaultNormalized: Bool, file: String
  ) throws -> AddedToken {
    guard let content = object["content"] as? String else {
      throw TroLError(.invalidTokenizer, "\(file): added token \(id) has no \"content\" string.")
    }
    let special = bool(object["special"]) ?? false
    return AddedToken(
      content: content, id: id,
      lstrip: bool(object["lstrip"]) ?? false,
      rstrip: bool(object["rstrip"]) ?? false,
      singleWord: bool(object["single_word"]) ?? false,
      normalized: bool(object["normalized"]) ?? defaultNormalized,
      special: special)
  }
}

/// The transformers-level files beside a tokenizer: `tokenizer_config.json`,
/// `special_tokens_map.json`, `added_tokens.json`, merged the way `from_pretrained` merges them.
struct HFTokenizerSettings: Sendable {
  /// Added tokens by id, from `added_tokens_decoder` then `added_tokens.json`.
  var addedTokens: [Int: AddedToken] = [:]
  /// bos, eos, unk, pad and the additional special tokens, as strings (`all_special_tokens`).
  var specialTokens: [String] = []
  /// `additional_special_tokens` alone.
  var additionalSpecialTokens: [String] = []
  var bosToken: String?
  var eosToken: String?
  var unkToken: String?
  var padToken: String?
  var addBOSToken: Bool?
  var addEOSToken: Bool?
  var cleanUpTokenizationSpaces: Bool?
  var spacesBetweenSpecialTokens: Bool?
  var tokenizerClass: String?

  init() {}

  /// Fills the special tokens a tokenizer class defines in its `__init__` defaults when the
  /// files do not name them.
  mutating func applyDefaults(bos: String?, eos: String?, unk: String?, pad: String?) {
    bosToken = bosToken ?? bos
    eosToken = eosToken ?? eos
    unkToken = unkToken ?? unk
    padToken = padToken ?? pad
    rebuildSpecialTokens()
  }

  private mutating func rebuildSpecialTokens() {
    var specials: [String] = []
    for s in [bosToken, eosToken, unkToken, padToken].compactMap({ $0 }) + additionalSpecialTokens
    where !specials.contains(s) {
      specials.append(s)
    }
    specialTokens = specials
  }

  init(directory: String) throws {
    let configPath = directory + "/tokenizer_config.json"
    let mapPath = directory + "/special_tokens_map.json"
    let addedPath = directory + "/added_tokens.json"
    let config = try TokenizerJSON.readObjectIfPresent(at: configPath) ?? [:]
    let map = try TokenizerJSON.readObjectIfPresent(at: mapPath) ?? [:]

    if let decoder = config["added_tokens_decoder"] as? [String: Any] {
      for (key, value) in decoder {
        guard let id = Int(key), TokenizerJSON.isPlausibleID(id),
          let object = value as? [String: Any]
        else {
          throw TroLError(
            .invalidTokenizer, "\(configPath): bad added_tokens_decoder entry \"\(key)\".")
        }
        addedTokens[id] = try TokenizerJSON.addedToken(
          object, id: id, defaultNormalized: true, file: configPath)
      }
    }
    tokenizerClass = config["tokenizer_class"] as? String
    addBOSToken = TokenizerJSON.bool(config["add_bos_token"])
    addEOSToken = TokenizerJSON.bool(config["add_eos_token"])
    cleanUpTokenizationSpaces = TokenizerJSON.bool(config["clean_up_tokenization_spaces"])
    spacesBetweenSpecialTokens = TokenizerJSON.bool(config["spaces_between_special_tokens"])

    // special_tokens_map.json overrides the config's single tokens; additional ones are merged.
    func single(_ key: String) -> String? {
      TokenizerJSON.tokenContent(map[key]) ?? TokenizerJSON.tokenContent(config[key])
    }
    bosToken = single("bos_token")
    eosToken = single("eos_token")
    unkToken = single("unk_token")
    padToken = single("pad_token")
    var additional: [String] = []
    for source in [config["additional_special_tokens"], map["additional_special_tokens"]] {
      for entry in source as? [Any] ?? [] {
        if let s = TokenizerJSON.tokenContent(entry), !additional.contains(s) {
          additional.append(s)
        }
      }
    }
    additionalSpecialTokens = additional
    rebuildSpecialTokens()
    let specials = specialTokens

    // Legacy added_tokens.json: transformers rebuilds these entries with default flags.
    if let added = try TokenizerJSON.readObjectIfPresent(at: addedPath) {
      for (content, value) in added {
        guard let id = TokenizerJSON.int(value), TokenizerJSON.isPlausibleID(id) else {
          throw TroLError(
            .invalidTokenizer,
            "\(addedPath): the id of \"\(content)\" is not a token id (0..<\(TokenizerJSON.maximumID))."
          )
        }
        let special = specials.contains(content)
        addedTokens[id] = AddedToken(
          content: content, id: id, normalized: !special, special: special)
      }
    }
  }
}
