import TrolleyBasics

/// The `tokenizers` decoders used by Llama/Phi-3 files, applied to token strings in order.
indirect enum HFDecoder: Sendable {
  case sequence([HFDecoder])
  case replace(pattern: [UInt8], content: [UInt8])
  /// Runs of "<0xXX>" tokens become their bytes; an invalid UTF-8 run becomes one U+FFFD per byte.
  case byteFallback
  /// Joins all tokens into one.
  case fuse
  /// Removes up to `start` leading and `stop` trailing `content` characters from each token.
  case strip(content: Unicode.Scalar, start: Int, stop: Int)
  case metaspace(replacement: [UInt8], prependFirst: Bool)

  init(json: [String: Any], file: String) throws {
    let type = json["type"] as? String ?? ""
    switch type {
    case "Sequence":
      let items = json["decoders"] as? [[String: Any]] ?? []
      self = .sequence(try items.map { try HFDecoder(json: $0, file: file) })
    case "Replace":
      self = .replace(
        pattern: try HFNormalizer.literalPattern(json["pattern"], file: file),
        content: Array((json["content"] as? String ?? "").utf8))
    case "ByteFallback": self = .byteFallback
    case "Fuse": self = .fuse
    case "Strip":
      guard let c = (json["content"] as? String)?.unicodeScalars.first else {
        throw TroLError(.invalidTokenizer, "\(file): Strip decoder without content.")
      }
      self = .strip(
        content: c, start: TokenizerJSON.int(json["start"]) ?? 0,
        stop: TokenizerJSON.int(json["stop"]) ?? 0)
    case "Metaspace":
      let replacement = Array((json["replacement"] as? String ?? "\u{2581}").utf8)
      let scheme = json["prepend_scheme"] as? String
      let prepend =
        scheme.map { $0 != "never" } ?? (TokenizerJSON.bool(json["add_prefix_space"]) ?? true)
      self = .metaspace(replacement: replacement, prependFirst: prepend)
    default:
      throw TroLError(
        .invalidTokenizer,
        "\(file): decoder \(type.debugDescription) is not supported (supported: Sequence, Replace, ByteFallback, Fuse, Strip, Metaspace)."
      )
    }
  }

  func apply(_ tokens: [[UInt8]]) -> [[UInt8]] {
    switch self {
    case .sequence(let items):
      return items.reduce(tokens) { $1.apply($0) }
    case .replace(let pattern, let content):
      return tokens.map { SentencePieceTokenizer.replaceAll($0, pattern, content) }
    case .byteFallback:
      var out: [[UInt8]] = []
      var pending: [UInt8] = []
      func flush() {
        guard !pending.isEmpty else { return }
        if UTF8Scan.isValid(pending) {
          out.append(pending)
        } else {
          for _ in pending { out.append(UTF8Scan.replacementCharacter) }
        }
        pending.removeAll()
      }
      for token in tokens {
        if let b = UTF8Scan.byteValue(ofPiece: token) {
          pending.append(b)
        } else {
          flush()
          out.append(token)
        }
      }
      flush()
      return out
    case .fuse:
      return [tokens.flatMap { $0 }]
    case .strip(let content, let start, let stop):
      return tokens.map { token in
        var scalars = Array(String(decoding: token, as: UTF8.self).unicodeScalars)
        var cut = 0
        while cut < start, cut < scalars.count, scalars[cut] == content { cut += 1 }
        var end = scalars.count
        var dropped = 0
        while dropped < stop, end > cut, scalars[end - 1] == content {
          end -= 1
          dropped += 1
        }
        scalars = Array(scalars[cut..<end])
        var s = String.UnicodeScalarView()
        s.append(contentsOf: scalars)
        return Array(String(s).utf8)
      }
    case .metaspace(let replacement, let prependFirst):
      return tokens.enumerated().map { i, token in
        let replaced = SentencePieceTokenizer.replaceAll(
          token, replacement, i == 0 && prependFirst ? [] : [0x20])
        return replaced
      }
    }
  }
}
