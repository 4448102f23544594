import TrolleyBasics

/// Encodes and decodes with a SentencePiece model exactly as the sentencepiece library does
/// (`bpe_model.cc` for encoding, `SentencePieceProcessor::Decode` for decoding).
///
/// Only the BPE model type is implemented: it is what InternLM2 and Llama-family models use.
struct SentencePieceProcessor: Sendable {
  let model: SentencePieceModel
  private let normalizer: SentencePieceNormalizer
  /// NORMAL, USER_DEFINED and UNUSED pieces: the ones merges may produce.
  private let mergeable: ByteStringTable
  /// CONTROL, UNKNOWN and BYTE pieces, looked up first by `pieceToID` like sentencepiece does.
  private let reserved: ByteStringTable
  private let userDefined: PrefixMatcher
  /// Id of the `<0xXX>` piece for each byte, or -1.
  private let byteIDs: [Int32]
  let unkID: Int
  private let scores: [Float]
  private let isUnused: [Bool]

  init(model: SentencePieceModel, context: String) throws {
    guard model.trainerSpec.modelType == .bpe else {
      throw TroLError(
        .invalidTokenizer,
        "\(context): SentencePiece model type \(model.trainerSpec.modelType) is not supported; only BPE models (InternLM2, Llama) are."
      )
    }
    guard !model.trainerSpec.treatWhitespaceAsSuffix else {
      throw TroLError(
        .invalidTokenizer, "\(context): treat_whitespace_as_suffix models are not supported.")
    }
    self.model = model
    var mergeable = ByteStringTable(expectedCount: model.pieces.count)
    var reserved = ByteStringTable(expectedCount: 300)
    var userDefined = PrefixMatcher()
    var byteIDs = [Int32](repeating: -1, count: 256)
    var unkID: Int?
    for (id, piece) in model.pieces.enumerated() {
      guard !piece.piece.isEmpty else {
        throw TroLError(.invalidTokenizer, "\(context): piece \(id) is empty.")
      }
      let inserted: Bool
      switch piece.type {
      case .normal, .userDefined, .unused:
        inserted = mergeable.insert(piece.piece, value: Int32(id))
      case .unknown, .control, .byte: inserted = reserved.insert(piece.piece, value: Int32(id))
      }
      guard inserted else {
        throw TroLError(.invalidTokenizer, "\(context): piece \(id) is defined twice.")
      }
      switch piece.type {
      case .userDefined: userDefined.insert(piece.piece, value: Int32(id))
      case .unknown: unkID = id
      case .byte:
        guard model.trainerSpec.byteFallback else {
          throw TroLError(
            .invalidTokenizer, "\(context): byte pieces are present but byte_fallback is off.")
        }
        if let b = UTF8Scan.byteValue(ofPiece: piece.piece) { byteIDs[Int(b)] = Int32(id) }
      default: break
      }
    }
    guard let unkID else {
      throw TroLError(.invalidTokenizer, "\(context): the model has no unknown piece (<unk>).")
    }
    if model.trainerSpec.byteFallback, byteIDs.contains(-1) {
      throw TroLError(
        .invalidTokenizer, "\(context): byte_fallback is on but some <0xXX> pieces are missing.")
    }
    self.mergeable = mergeable
    self.reserved = reserved
    self.userDefined = userDefined
    self.byteIDs = byteIDs
    self.unkID = unkID
    self.scores = model.pieces.map(\.score)
    self.isUnused = model.pieces.map { $0.type == .unused }
    self.normalizer = try SentencePieceNormalizer(
      spec: model.normalizerSpec, userDefined: userDefined, context: context)
  }

  var pieceCount: Int { model.pieces.count }

  func pieceToID(_ piece: [UInt8]) -> Int {
    if let id = reserved.lookup(piece) { return Int(id) }
    if let id = mergeable.lookup(piece) { return Int(id) }
    return unkID
  }

  func isControl(_ id: Int) -> Bool { model.pieces[id].type == .control }

  // MARK: Encoding

  /// `sp.encode(text)`: normalization, BPE merges by piece score, byte fallback.
  func encode(_ text: [UInt8], into ids: inout [Int]) {
    let normalized = normalizer.normalize(text)
    if normalized.isEmpty { return }
    normalized.withUnsafeBufferPointer { encodeNormalized($0, into: &ids) }
  }

  private struct Pair: MergeCandidate {
    var score: Float
    var left: Int32
    var right: Int32
    var size: Int32
    /// sentencepiece's agenda order: higher score first, then the leftmost pair.
    @inline(__always) func precedes(_ o: Pair) -> Bool {
      score > o.score || (score == o.score && left < o.left)
    }
  }

  private struct Symbol {
    var start: Int32
    var length: Int32
    var prev: Int32
    var next: Int32
    var frozen: Bool
  }

  private func encodeNormalized(_ text: UnsafeBufferPointer<UInt8>, into ids: inout [Int]) {
    // Symbols: a linked list over byte ranges of `text`, one per character or user symbol.
    let sym = UnsafeMutableBufferPointer<Symbol>.allocate(capacity: text.count)
    defer { sym.deallocate() }
    var count = 0
    var pos = 0
    while pos < text.count {
      var length: Int
      var isUser = false
      if let m = userDefined.longestMatch(text, from: pos) {
        length = m.length
        isUser = true
      } else {
        length = min(UTF8Scan.charLength(lead: text[pos]), text.count - pos)
      }
      pos += length
      sym.initializeElement(
        at: count,
        to: Symbol(
          start: Int32(pos - length), length: Int32(length), prev: Int32(count - 1),
          next: pos < text.count ? Int32(count + 1) : -1, frozen: isUser))
      count += 1
    }
    let symbols = UnsafeMutableBufferPointer(rebasing: sym[..<count])

    // Resegmentation of UNUSED pieces needs the pair each was last merged from.
    var revMerge: [Int32: (Int32, Int32, Int32, Int32)] = [:]  // id -> (lstart, llen, rstart, rlen)
    var queue = MergeQueue<Pair>(capacity: count * 2)

    for i in 1..<max(count, 1) {
      addCandidate(Int32(i - 1), Int32(i), symbols, text, &queue, &revMerge)
    }
    while !queue.isEmpty {
      let top = queue.pop()
      let l = Int(top.left)
      let r = Int(top.right)
      let lengthL = symbols[l].length
      let lengthR = symbols[r].length
      if lengthL == 0 || lengthR == 0 || lengthL + lengthR != top.size { continue }
      symbols[l].length = lengthL + lengthR
      let next = symbols[r].next
      symbols[l].next = next
      if next >= 0 { symbols[Int(next)].prev = top.left }
      symbols[r].length = 0
      addCandidate(symbols[l].prev, top.left, symbols, text, &queue, &revMerge)
      addCandidate(top.left, next, symbols, text, &queue, &revMerge)
    }

    var index: Int32 = count == 0 ? -1 : 0
    while index >= 0 {
      let symbol = symbols[Int(index)]
      if symbol.length > 0 {
        emit(text, Int(symbol.start), Int(symbol.length), revMerge, into: &ids)
      }
      index = symbol.next
    }
  }

  /// sentencepiece's `MaybeAddNewSymbolPair`.
  @inline(__always)
  private func addCandidate(
    _ left: Int32, _ right: Int32, _ symbols: UnsafeMutableBufferPointer<Symbol>,
    _ text: UnsafeBufferPointer<UInt8>, _ queue: inout MergeQueue<Pair>,
    _ revMerge: inout [Int32: (Int32, Int32, Int32, Int32)]
  ) {
    if left < 0 || right < 0 { return }
    let l = symbols[Int(left)]
    let r = symbols[Int(right)]
    if l.frozen || r.frozen { return }
    let size = Int(l.length + r.length)
    let s = Int(l.start)
    guard let id = mergeable.lookup(UnsafeBufferPointer(rebasing: text[s..<s + size])) else {
      return
    }
    queue.push(Pair(score: scores[Int(id)], left: left, right: right, size: Int32(size)))
    if isUnused[Int(id)] { revMerge[id] = (l.start, l.length, r.start, r.length) }
  }

  /// Final symbol -> ids: UNUSED pieces are split back into the pair they came from, unknown
  /// ones fall back to bytes (or `<unk>`).
  private func emit(
    _ text: UnsafeBufferPointer<UInt8>, _ start: Int, _ length: Int,
    _ revMerge: [Int32: (Int32, Int32, Int32, Int32)], into ids: inout [Int]
  ) {
    let piece = UnsafeBufferPointer(rebasing: text[start..<start + length])
    var id = -1
    if let r = reserved.lookup(piece) {
      id = Int(r)
    } else if let m = mergeable.lookup(piece) {
      id = Int(m)
    }
    if id >= 0, isUnused[id], let parts = revMerge[Int32(id)] {
      emit(text, Int(parts.0), Int(parts.1), revMerge, into: &ids)
      emit(text, Int(parts.2), Int(parts.3), revMerge, into: &ids)
      return
    }
    if id < 0 || id == unkID {
      if model.trainerSpec.byteFallback {
        for b in piece { ids.append(Int(byteIDs[Int(b)])) }
      } else {
        ids.append(unkID)
      }
      return
    }
    ids.append(id)
  }

  // MARK: Decoding

  /// `sp.decode(ids)`: control pieces vanish, byte pieces are reassembled into UTF-8 (invalid
  /// bytes become U+FFFD), "▁" becomes a space, and the dummy-prefix space is dropped.
  func decode(_ ids: [Int]) -> [UInt8] {
    var out: [UInt8] = []
    var bytes: [UInt8] = []
    var isBOSWhitespace = true
    var bosWhitespaceSeen = false
    let spec = model.normalizerSpec
    let stripsPrefix = spec.addDummyPrefix || spec.removeExtraWhitespaces
    for id in ids {
      guard id >= 0, id < model.pieces.count else { continue }
      let piece = model.pieces[id]
      if piece.type == .byte {
        if let b = UTF8Scan.byteValue(ofPiece: piece.piece) { bytes.append(b) }
        continue
      }
      if !bytes.isEmpty {
        UTF8Scan.appendReplacingInvalid(bytes, to: &out)
        bytes.removeAll(keepingCapacity: true)
      }
      if bosWhitespaceSeen || !out.isEmpty { isBOSWhitespace = false }
      switch piece.type {
      case .control:
        bosWhitespaceSeen = false
      case .unknown:
        out.append(contentsOf: model.trainerSpec.unkSurface)
        bosWhitespaceSeen = false
      default:
        var p = piece.piece[...]
        var consumed = false
        if isBOSWhitespace && stripsPrefix, p.starts(with: UTF8Scan.spaceSymbol) {
          p = p.dropFirst(UTF8Scan.spaceSymbol.count)
          consumed = !spec.removeExtraWhitespaces
        }
        Self.appendUnescaped(p, to: &out)
        bosWhitespaceSeen = consumed
      }
    }
    if !bytes.isEmpty { UTF8Scan.appendReplacingInvalid(bytes, to: &out) }
    return out
  }

  /// Copies `piece`, turning each "▁" into a space.
  static func appendUnescaped(_ piece: ArraySlice<UInt8>, to out: inout [UInt8]) {
    var i = piece.startIndex
    while i < piece.endIndex {
      if piece[i] == 0xE2, i + 2 < piece.endIndex, piece[i + 1] == 0x96, piece[i + 2] == 0x81 {
        out.append(0x20)
        i += 3
      } else {
        out.append(piece[i])
        i += 1
      }
    }
  }
}
