import TrolleyBasics

/// The `tokenizers` normalizers Llama/Phi-3 style `tokenizer.json` files use.
indirect enum HFNormalizer: Sendable {
  case sequence([HFNormalizer])
  /// Prepends the string to non-empty text (the legacy Llama "▁" prefix).
  case prepend([UInt8])
  /// Replaces every occurrence of a literal string.
  case replace(pattern: [UInt8], content: [UInt8])
  case strip(left: Bool, right: Bool)

  init(json: [String: Any], file: String) throws {
    let type = json["type"] as? String ?? ""
    switch type {
    case "Sequence":
      let items = json["normalizers"] as? [[String: Any]] ?? []
      self = .sequence(try items.map { try HFNormalizer(json: $0, file: file) })
    case "Prepend":
      guard let s = json["prepend"] as? String else {
        throw TroLError(.invalidTokenizer, "\(file): Prepend normalizer without \"prepend\".")
      }
      self = .prepend(Array(s.utf8))
    case "Replace":
      self = .replace(
        pattern: try HFNormalizer.literalPattern(json["pattern"], file: file),
        content: Array((json["content"] as? String ?? "").utf8))
    case "Strip":
      self = .strip(
        left: TokenizerJSON.bool(json["strip_left"]) ?? true,
        right: TokenizerJSON.bool(json["strip_right"]) ?? true)
    default:
      throw TroLError(
        .invalidTokenizer,
        "\(file): normalizer \(type.debugDescription) is not supported (supported: Sequence, Prepend, Replace, Strip)."
      )
    }
  }

  static func literalPattern(_ value: Any?, file: String) throws -> [UInt8] {
    guard let object = value as? [String: Any], let s = object["String"] as? String, !s.isEmpty
    else {
      throw TroLError(
        .invalidTokenizer,
        "\(file): only literal-string Replace patterns are supported, got \(String(describing: value))."
      )
    }
    return Array(s.utf8)
  }

  func apply(_ text: [UInt8]) -> [UInt8] {
    switch self {
    case .sequence(let items):
      return items.reduce(text) { $1.apply($0) }
    case .prepend(let p):
      return text.isEmpty ? text : p + text
    case .replace(let pattern, let content):
      return SentencePieceTokenizer.replaceAll(text, pattern, content)
    case .strip(let left, let right):
      var r = 0..<text.count
      if left {
        r = r.lowerBound + Whitespace.leadingCount(text, r, Whitespace.isRustSpace)..<r.upperBound
      }
      if right {
        r = r.lowerBound..<r.upperBound - Whitespace.trailingCount(text, r, Whitespace.isRustSpace)
      }
      return Array(text[r])
    }
  }
}

/// The `tokenizers` pre-tokenizers supported: none, or Metaspace.
enum HFPreTokenizer: Sendable {
  case none
  case metaspace(replacement: [UInt8], prependScheme: PrependScheme, split: Bool)

  enum PrependScheme: Sendable { case always, first, never }

  init(json: [String: Any]?, file: String) throws {
    guard let json else {
      self = .none
      return
    }
    let type = json["type"] as? String ?? ""
    guard type == "Metaspace" else {
      throw TroLError(
        .invalidTokenizer,
        "\(file): pre_tokenizer \(type.debugDescription) is not supported (supported: null, Metaspace)."
      )
    }
    let replacement = Array((json["replacement"] as? String ?? "\u{2581}").utf8)
    var scheme = PrependScheme.always
    switch json["prepend_scheme"] as? String {
    case "first": scheme = .first
    case "never": scheme = .never
    case "always": scheme = .always
    default:
      // Files written before prepend_scheme existed use add_prefix_space.
      scheme = (TokenizerJSON.bool(json["add_prefix_space"]) ?? true) ? .always : .never
    }
    self = .metaspace(
      replacement: replacement, prependScheme: scheme,
      split: TokenizerJSON.bool(json["split"]) ?? true)
  }

  /// Splits one normalized segment; `atStart` tells whether it begins the original input.
  func split(_ text: [UInt8], atStart: Bool) -> [[UInt8]] {
    switch self {
    case .none:
      return text.isEmpty ? [] : [text]
    case .metaspace(let replacement, let scheme, let split):
      var s = SentencePieceTokenizer.replaceAll(text, [0x20], replacement)
      let prepend: Bool
      switch scheme {
      case .always: prepend = !s.starts(with: replacement)
      case .first: prepend = atStart && !s.starts(with: replacement)
      case .never: prepend = false
      }
      if prepend { s = replacement + s }
      guard split else { return s.isEmpty ? [] : [s] }
      // MergedWithNext: each replacement starts a new piece.
      var pieces: [[UInt8]] = []
      var start = 0
      var i = 0
      while i + replacement.count <= s.count {
        if s[i..<i + replacement.count].elementsEqual(replacement) {
          if i > start { pieces.append(Array(s[start..<i])) }
          start = i
          i += replacement.count
        } else {
          i += 1
        }
      }
      if start < s.count { pieces.append(Array(s[start...])) }
      return pieces
    }
  }
}
