import TrolleyBasics

/// A Hugging Face `tokenizer.json` tokenizer as transformers' `LlamaTokenizerFast` runs it
/// (TroL-3.8B / Phi-3): added tokens are cut out first with their lstrip/rstrip/single_word
/// flags, each remaining segment is normalized, pre-tokenized and BPE-encoded with byte fallback.
public final class HFTokenizer: TextTokenizer {
  private let model: BPEModel
  private let normalizer: HFNormalizer?
  private let preTokenizer: HFPreTokenizer
  private let decoder: HFDecoder?
  /// `TemplateProcessing` "single" pieces: nil = the sequence, else the special ids to insert.
  private let template: [[Int]?]
  private let addedByID: [Int: AddedToken]
  private let addedContents: ByteStringTable
  /// Added tokens matched on the raw text / on normalized text.
  private let rawMatcher: PrefixMatcher
  private let normalizedMatcher: PrefixMatcher
  private let specialIDs: Set<Int>
  public let vocabularySize: Int
  public let bosTokenID: Int?
  public let eosTokenID: Int?

  /// Loads `tokenizer.json` and the transformers files beside it in `directory`.
  public convenience init(directory: String) throws {
    let path = directory + "/tokenizer.json"
    var settings = try HFTokenizerSettings(directory: directory)
    // LlamaTokenizerFast.__init__ defaults.
    settings.applyDefaults(bos: "<s>", eos: "</s>", unk: "<unk>", pad: nil)
    try self.init(json: try TokenizerJSON.readObject(at: path), settings: settings, file: path)
  }

  init(json: [String: Any], settings: HFTokenizerSettings, file: String) throws {
    guard let modelJSON = json["model"] as? [String: Any] else {
      throw TroLError(.invalidTokenizer, "\(file) has no \"model\".")
    }
    let model = try BPEModel(json: modelJSON, file: file)
    self.model = model
    normalizer = try (json["normalizer"] as? [String: Any]).map {
      try HFNormalizer(json: $0, file: file)
    }
    preTokenizer = try HFPreTokenizer(json: json["pre_tokenizer"] as? [String: Any], file: file)
    decoder = try (json["decoder"] as? [String: Any]).map { try HFDecoder(json: $0, file: file) }

    var added: [Int: AddedToken] = [:]
    for entry in json["added_tokens"] as? [[String: Any]] ?? [] {
      guard let id = TokenizerJSON.int(entry["id"]), TokenizerJSON.isPlausibleID(id) else {
        throw TroLError(.invalidTokenizer, "\(file): an added token has no id.")
      }
      added[id] = try TokenizerJSON.addedToken(entry, id: id, defaultNormalized: true, file: file)
    }
    // transformers re-adds its special tokens (bos, eos, unk, pad, additional) as special, so
    // e.g. Phi-3's `</s>` (special=false in the file) is skipped when decoding.
    let specialNames = Set(settings.specialTokens)
    var specialIDs = Set<Int>()
    for (id, token) in added where token.special || specialNames.contains(token.content) {
      specialIDs.insert(id)
    }
    var contents = ByteStringTable(expectedCount: added.count)
    var raw = PrefixMatcher()
    var normalized = PrefixMatcher()
    for token in added.values.sorted(by: { $0.id < $1.id }) {
      contents.insert(token.bytes, value: Int32(token.id))
      if token.normalized {
        let pattern = normalizer?.apply(token.bytes) ?? token.bytes
        normalized.insert(pattern, value: Int32(token.id))
      } else {
        raw.insert(token.bytes, value: Int32(token.id))
      }
    }
    addedByID = added
    addedContents = contents
    rawMatcher = raw
    normalizedMatcher = normalized
    self.specialIDs = specialIDs
    vocabularySize = max(model.tokensByID.count, (added.keys.max() ?? -1) + 1)

    func id(of token: String?) -> Int? {
      guard let token else { return nil }
      let bytes = Array(token.utf8)
      if let id = contents.lookup(bytes) { return Int(id) }
      return model.vocab.lookup(bytes).map(Int.init)
    }
    bosTokenID = id(of: settings.bosToken)
    eosTokenID = id(of: settings.eosToken)

    var template: [[Int]?] = []
    if let post = json["post_processor"] as? [String: Any] {
      guard post["type"] as? String == "TemplateProcessing" else {
        throw TroLError(
          .invalidTokenizer,
          "\(file): post_processor \(post["type"] ?? "?") is not supported (supported: TemplateProcessing)."
        )
      }
      let specials = post["special_tokens"] as? [String: Any] ?? [:]
      for item in post["single"] as? [[String: Any]] ?? [] {
        if item["Sequence"] != nil {
          template.append(nil)
        } else if let special = item["SpecialToken"] as? [String: Any],
          let name = special["id"] as? String
        {
          guard let entry = specials[name] as? [String: Any], let ids = entry["ids"] as? [Any]
          else {
            throw TroLError(
              .invalidTokenizer, "\(file): post_processor names unknown special token \(name).")
          }
          template.append(ids.compactMap { TokenizerJSON.int($0) })
        }
      }
    } else {
      template = [nil]
    }
    if !template.contains(where: { $0 == nil }) { template.append(nil) }
    self.template = template
  }

  // MARK: Encoding

  public func encode(_ text: String, addSpecialTokens: Bool) -> [Int] {
    let bytes = Array(text.utf8)
    var ids: [Int] = []
    ids.reserveCapacity(bytes.count / 2 + 2)
    for segment in Self.splitOnAdded(bytes, 0..<bytes.count, matcher: rawMatcher, added: addedByID)
    {
      switch segment {
      case .added(let id): ids.append(id)
      case .text(let range):
        let normalizedText = normalizer?.apply(Array(bytes[range])) ?? Array(bytes[range])
        for inner in Self.splitOnAdded(
          normalizedText, 0..<normalizedText.count, matcher: normalizedMatcher, added: addedByID)
        {
          switch inner {
          case .added(let id): ids.append(id)
          case .text(let r):
            let atStart = range.lowerBound == 0 && r.lowerBound == 0
            for piece in preTokenizer.split(Array(normalizedText[r]), atStart: atStart) {
              model.encode(piece[...], into: &ids)
            }
          }
        }
      }
    }
    guard addSpecialTokens else { return ids }
    var out: [Int] = []
    for item in template {
      if let special = item { out += special } else { out += ids }
    }
    return out
  }

  enum Segment: Equatable {
    case text(Range<Int>)
    case added(Int)
  }

  /// `AddedVocabulary::find_matches`: leftmost-longest matches, single_word checks, lstrip and
  /// rstrip widening the match over whitespace (Rust `char::is_whitespace`). Empty text
  /// segments are dropped.
  static func splitOnAdded(
    _ bytes: [UInt8], _ range: Range<Int>, matcher: PrefixMatcher, added: [Int: AddedToken]
  ) -> [Segment] {
    if matcher.isEmpty { return range.isEmpty ? [] : [.text(range)] }
    var segments: [Segment] = []
    var startOffset = range.lowerBound
    bytes.withUnsafeBufferPointer { buf in
      let whole = UnsafeBufferPointer(rebasing: buf[..<range.upperBound])
      var pos = range.lowerBound
      while pos < range.upperBound {
        guard let m = matcher.longestMatch(whole, from: pos) else {
          pos += 1
          continue
        }
        let id = Int(m.value)
        var start = pos
        var stop = pos + m.length
        pos = stop
        guard let token = added[id] else { continue }
        if token.singleWord {
          let startSpace =
            start == range.lowerBound || !endsWithWordCharacter(bytes, range.lowerBound..<start)
          let stopSpace =
            stop == range.upperBound || !startsWithWordCharacter(bytes, stop..<range.upperBound)
          if !startSpace || !stopSpace { continue }
        }
        if token.lstrip {
          let newStart =
            start
            - Whitespace.trailingCount(bytes, range.lowerBound..<start, Whitespace.isRustSpace)
          start = max(newStart, startOffset)
        }
        if token.rstrip {
          stop += Whitespace.leadingCount(bytes, stop..<range.upperBound, Whitespace.isRustSpace)
        }
        if startOffset < start { segments.append(.text(startOffset..<start)) }
        segments.append(.added(id))
        startOffset = stop
      }
    }
    if startOffset < range.upperBound { segments.append(.text(startOffset..<range.upperBound)) }
    return segments
  }

  private static func isWordCharacter(_ s: Unicode.Scalar) -> Bool {
    s == "_" || s.properties.isAlphabetic || s.properties.numericType != nil
  }

  private static func endsWithWordCharacter(_ bytes: [UInt8], _ range: Range<Int>) -> Bool {
    guard !range.isEmpty else { return false }
    var start = range.upperBound - 1
    while start > range.lowerBound, bytes[start] & 0xC0 == 0x80 { start -= 1 }
    guard let (s, _) = Whitespace.scalar(bytes, at: start) else { return false }
    return isWordCharacter(s)
  }

  private static func startsWithWordCharacter(_ bytes: [UInt8], _ range: Range<Int>) -> Bool {
    guard !range.isEmpty, let (s, _) = Whitespace.scalar(bytes, at: range.lowerBound) else {
      return false
    }
    return isWordCharacter(s)
  }

  // MARK: Decoding

  /// `Tokenizer::decode`: unknown ids are dropped, special ones too when asked, then the decoder
  /// chain runs (no clean-up: TroL's configs set `clean_up_tokenization_spaces` false).
  public func decode(_ ids: [Int], skipSpecialTokens: Bool) -> String {
    var tokens: [[UInt8]] = []
    tokens.reserveCapacity(ids.count)
    for id in ids {
      guard let token = tokenBytes(forID: id) else { continue }
      if skipSpecialTokens && specialIDs.contains(id) { continue }
      tokens.append(token)
    }
    let out: [UInt8]
    if let decoder {
      out = decoder.apply(tokens).flatMap { $0 }
    } else {
      out = Array(tokens.joined(separator: [0x20]))
    }
    return String(decoding: out, as: UTF8.self)
  }

  // MARK: Vocabulary

  private func tokenBytes(forID id: Int) -> [UInt8]? {
    if let token = addedByID[id] { return token.bytes }
    guard id >= 0, id < model.tokensByID.count else { return nil }
    return model.tokensByID[id]
  }

  public func token(forID id: Int) -> String? {
    tokenBytes(forID: id).map { String(decoding: $0, as: UTF8.self) }
  }

  public func tokenID(_ token: String) -> Int? {
    let bytes = Array(token.utf8)
    if let id = addedContents.lookup(bytes) { return Int(id) }
    return model.vocab.lookup(bytes).map(Int.init)
  }

  public func isSpecial(_ id: Int) -> Bool { specialIDs.contains(id) }
}
