/// The InternLM2 tokenizer as TroL-1.8B/7B run it: transformers' slow `InternLM2Tokenizer`
/// over a SentencePiece BPE model.
///
/// Encoding splits the text on added and special tokens first (HF slow semantics) and encodes
/// each remaining chunk with SentencePiece separately. Decoding reproduces
/// `InternLM2Tokenizer.convert_tokens_to_string` and `PreTrainedTokenizer._decode`, including
/// their spaces around special tokens and the punctuation clean-up.
public final class SentencePieceTokenizer: TextTokenizer {
  let processor: SentencePieceProcessor
  private let settings: HFTokenizerSettings
  /// Added tokens by id and by content (content bytes -> id).
  private let addedByID: [Int: AddedToken]
  private let addedMatcher: PrefixMatcher
  private let addedContents: ByteStringTable
  private let specialContents: Set<[UInt8]>
  private let specialIDs: Set<Int>
  /// Added tokens decoded as separate sub-texts: non-special ones and special ones beyond the
  /// SentencePiece vocabulary (transformers' `legacy_added_tokens`, e.g. `<image>`).
  private let decodeRoles: [DecodeRole]
  private let addBOS: Bool
  private let addEOS: Bool
  private let spacesBetweenSpecialTokens: Bool
  private let cleanUpTokenizationSpaces: Bool
  public let vocabularySize: Int
  public let bosTokenID: Int?
  public let eosTokenID: Int?

  /// Loads `tokenizer.model` and the transformers files beside it in `directory`.
  public convenience init(directory: String) throws {
    let path = directory + "/tokenizer.model"
    let bytes = try TokenizerJSON.readBytes(at: path)
    let model = try SentencePieceModel(serialized: bytes, context: path)
    var settings = try HFTokenizerSettings(directory: directory)
    // InternLM2Tokenizer.__init__ defaults.
    settings.applyDefaults(bos: "<s>", eos: "</s>", unk: "<unk>", pad: "</s>")
    try self.init(model: model, settings: settings, context: path)
  }

  init(model: SentencePieceModel, settings: HFTokenizerSettings, context: String) throws {
    let processor = try SentencePieceProcessor(model: model, context: context)
    self.processor = processor
    self.settings = settings
    var added = settings.addedTokens
    // Special tokens missing from the added-token lists are still added by transformers,
    // with the id of their SentencePiece piece.
    let contents = Set(added.values.map(\.content))
    for special in settings.specialTokens where !contents.contains(special) {
      let id = processor.pieceToID(Array(special.utf8))
      if id != processor.unkID || special == settings.unkToken {
        added[id] = added[id] ?? AddedToken(content: special, id: id, special: true)
      }
    }
    var matcher = PrefixMatcher()
    var table = ByteStringTable(expectedCount: added.count)
    for token in added.values.sorted(by: { $0.id < $1.id }) {
      matcher.insert(token.bytes, value: Int32(token.id))
      table.insert(token.bytes, value: Int32(token.id))
    }
    addedByID = added
    addedMatcher = matcher
    addedContents = table
    specialContents = Set(settings.specialTokens.map { Array($0.utf8) })
    var specialIDs = Set<Int>()
    for s in settings.specialTokens {
      if let id = table.lookup(Array(s.utf8)) {
        specialIDs.insert(Int(id))
      } else {
        specialIDs.insert(processor.pieceToID(Array(s.utf8)))
      }
    }
    self.specialIDs = specialIDs
    let vocab = model.pieces.count
    var legacy = Set<[UInt8]>()
    for token in added.values {
      let isSpecial = specialContents.contains(token.bytes)
      if !isSpecial
        || (token.id >= vocab && settings.additionalSpecialTokens.contains(token.content))
      {
        legacy.insert(token.bytes)
      }
    }
    vocabularySize = max(vocab, (added.keys.max() ?? -1) + 1)
    var roles = [DecodeRole](repeating: .unknown, count: vocabularySize)
    for id in 0..<vocabularySize {
      guard let token = added[id]?.bytes ?? (id < vocab ? model.pieces[id].piece : nil) else {
        continue
      }
      if legacy.contains(token) {
        roles[id] = .legacyAdded
      } else if specialContents.contains(token) {
        roles[id] = .special
      } else {
        roles[id] = .piece(processor.pieceToID(token))
      }
    }
    decodeRoles = roles
    addBOS = settings.addBOSToken ?? true
    addEOS = settings.addEOSToken ?? false
    spacesBetweenSpecialTokens = settings.spacesBetweenSpecialTokens ?? true
    cleanUpTokenizationSpaces = settings.cleanUpTokenizationSpaces ?? false
    let spec = model.trainerSpec
    bosTokenID = spec.bosID >= 0 && Int(spec.bosID) < vocab ? Int(spec.bosID) : nil
    eosTokenID = spec.eosID >= 0 && Int(spec.eosID) < vocab ? Int(spec.eosID) : nil
  }

  // MARK: Encoding

  public func encode(_ text: String, addSpecialTokens: Bool) -> [Int] {
    let bytes = Array(text.utf8)
    var ids: [Int] = []
    ids.reserveCapacity(bytes.count / 2 + 2)
    if addSpecialTokens, addBOS, let bos = bosTokenID { ids.append(bos) }
    for chunk in split(bytes) {
      switch chunk {
      case .added(let id): ids.append(id)
      case .text(let chunk):
        processor.encode(chunk, into: &ids)
      }
    }
    if addSpecialTokens, addEOS, let eos = eosTokenID { ids.append(eos) }
    return ids
  }

  enum Chunk: Equatable {
    case text([UInt8])
    case added(Int)
  }

  /// transformers' `tokens_trie.split` (leftmost, longest match) followed by the
  /// lstrip/rstrip/single_word handling of `PreTrainedTokenizer.tokenize`, step for step.
  func split(_ bytes: [UInt8]) -> [Chunk] {
    // 1. Cut at added-token matches.
    var tokens: [[UInt8]] = []
    bytes.withUnsafeBufferPointer { buf in
      var pos = 0
      var textStart = 0
      while pos < buf.count {
        if let m = addedMatcher.longestMatch(buf, from: pos) {
          if textStart < pos { tokens.append(Array(buf[textStart..<pos])) }
          tokens.append(Array(buf[pos..<pos + m.length]))
          pos += m.length
          textStart = pos
        } else {
          pos += 1
        }
      }
      if textStart < buf.count { tokens.append(Array(buf[textStart..<buf.count])) }
    }
    // 2. Strip whitespace (Python `str.strip`) around tokens that ask for it.
    for i in tokens.indices {
      guard let id = addedContents.lookup(tokens[i]), let added = addedByID[Int(id)] else {
        continue
      }
      let token = tokens[i]
      if added.rstrip, i + 1 < tokens.count, !tokens[i + 1].isEmpty {
        let right = tokens[i + 1]
        let n = Whitespace.leadingCount(right, 0..<right.count, Whitespace.isPythonSpace)
        tokens[i + 1] = Array(right[n...])
      }
      if added.lstrip, i > 0, !tokens[i - 1].isEmpty {
        let left = tokens[i - 1]
        let n = Whitespace.trailingCount(left, 0..<left.count, Whitespace.isPythonSpace)
        tokens[i - 1] = Array(left[..<(left.count - n)])
      }
      if added.singleWord, i > 0, let last = tokens[i - 1].last, last != 0x20 {
        tokens[i - 1] += token
        tokens[i] = []
      } else if added.singleWord, i + 1 < tokens.count, let first = tokens[i + 1].first,
        first != 0x20
      {
        tokens[i] += tokens[i + 1]
        tokens[i + 1] = []
      }
    }
    // 3. Whole added tokens map to their id; everything else is text for SentencePiece.
    return tokens.compactMap { token in
      if token.isEmpty { return nil }
      if let id = addedContents.lookup(token) { return .added(Int(id)) }
      return .text(token)
    }
  }

  // MARK: Decoding

  public func decode(_ ids: [Int], skipSpecialTokens: Bool) -> String {
    // convert_ids_to_tokens, then _decode: legacy added tokens become their own sub-texts.
    var subTexts: [[UInt8]] = []
    var current: [Int] = []
    current.reserveCapacity(ids.count)
    for id in ids {
      guard id >= 0, id < decodeRoles.count else { continue }
      if skipSpecialTokens && specialIDs.contains(id) { continue }
      switch decodeRoles[id] {
      case .unknown: continue
      case .legacyAdded:
        if !current.isEmpty {
          let s = tokensToString(current)
          if !s.isEmpty { subTexts.append(s) }
          current.removeAll(keepingCapacity: true)
        }
        if let token = tokenBytes(forID: id) { subTexts.append(token) }
      case .special, .piece: current.append(id)
      }
    }
    if !current.isEmpty { subTexts.append(tokensToString(current)) }
    var text: [UInt8] = []
    for (i, s) in subTexts.enumerated() {
      if i > 0 && spacesBetweenSpecialTokens { text.append(0x20) }
      text.append(contentsOf: s)
    }
    if cleanUpTokenizationSpaces { text = Self.cleanUpTokenization(text) }
    return String(decoding: text, as: UTF8.self)
  }

  /// How `decode` treats an id, precomputed from its token string as transformers compares
  /// strings: a special token (`all_special_tokens`), a legacy added token, or a piece to hand
  /// to SentencePiece (by the id `piece_to_id` gives its string).
  enum DecodeRole: Equatable {
    case unknown
    case special
    case legacyAdded
    case piece(Int)
  }

  /// `InternLM2Tokenizer.convert_tokens_to_string` over ids whose role is special or piece.
  private func tokensToString(_ ids: [Int]) -> [UInt8] {
    var out: [UInt8] = []
    var sub: [Int] = []
    var prevIsSpecial = false
    for id in ids {
      if case .piece(let pieceID) = decodeRoles[id] {
        sub.append(pieceID)
        prevIsSpecial = false
      } else {
        if !prevIsSpecial { out.append(0x20) }
        out.append(contentsOf: processor.decode(sub))
        out.append(contentsOf: tokenBytes(forID: id) ?? [])
        prevIsSpecial = true
        sub.removeAll(keepingCapacity: true)
      }
    }
    out.append(contentsOf: processor.decode(sub))
    // The method always cleans up, then adds and removes one leading space.
    return Self.cleanUpTokenization(out)
  }

  /// transformers' `clean_up_tokenization`: Python `str.replace` in this order.
  static func cleanUpTokenization(_ text: [UInt8]) -> [UInt8] {
    var s = text
    for (from, to) in [
      (" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
      (" 'm", "'m"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re"),
    ] {
      s = replaceAll(s, Array(from.utf8), Array(to.utf8))
    }
    return s
  }

  static func replaceAll(_ s: [UInt8], _ from: [UInt8], _ to: [UInt8]) -> [UInt8] {
    guard s.count >= from.count, !from.isEmpty else { return s }
    var out: [UInt8] = []
    out.reserveCapacity(s.count)
    var i = 0
    while i < s.count {
      if i + from.count <= s.count, s[i] == from[0], Array(s[i..<i + from.count]) == from {
        out.append(contentsOf: to)
        i += from.count
      } else {
        out.append(s[i])
        i += 1
      }
    }
    return out
  }

  // MARK: Vocabulary

  private func tokenBytes(forID id: Int) -> [UInt8]? {
    if let token = addedByID[id] { return token.bytes }
    guard id >= 0, id < processor.pieceCount else { return nil }
    return processor.model.pieces[id].piece
  }

  public func token(forID id: Int) -> String? {
    tokenBytes(forID: id).map { String(decoding: $0, as: UTF8.self) }
  }

  public func tokenID(_ token: String) -> Int? {
    let bytes = Array(token.utf8)
    if let id = addedContents.lookup(bytes) { return Int(id) }
    let id = processor.pieceToID(bytes)
    if id == processor.unkID && bytes != processor.model.pieces[id].piece { return nil }
    return id
  }

  public func isSpecial(_ id: Int) -> Bool { specialIDs.contains(id) }
}
