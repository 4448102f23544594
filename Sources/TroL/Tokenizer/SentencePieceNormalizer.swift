import TrolleyBasics

/// SentencePiece's normalizer: the precompiled character map (if the model has one),
/// whitespace handling and the dummy prefix, applied exactly as `normalizer.cc` does.
struct SentencePieceNormalizer: Sendable {
  let spec: SentencePieceModel.NormalizerSpec
  /// Darts-clone double-array units of the precompiled map; empty for identity.
  private let trie: [UInt32]
  /// NUL-separated replacement strings the trie values point into.
  private let replacements: [UInt8]
  /// User-defined symbols pass through the character map unchanged.
  private let userDefined: PrefixMatcher

  init(spec: SentencePieceModel.NormalizerSpec, userDefined: PrefixMatcher, context: String) throws
  {
    self.spec = spec
    self.userDefined = userDefined
    let blob = spec.precompiledCharsmap
    if blob.isEmpty {
      trie = []
      replacements = []
      return
    }
    // Layout: <trie size: u32 LE><double array (u32 LE units)><replacement strings>.
    guard blob.count > 4 else {
      throw TroLError(.invalidTokenizer, "\(context): precompiled_charsmap is truncated.")
    }
    let trieSize = Int(blob[0]) | Int(blob[1]) << 8 | Int(blob[2]) << 16 | Int(blob[3]) << 24
    guard trieSize >= 4, trieSize % 4 == 0, 4 + trieSize <= blob.count else {
      throw TroLError(
        .invalidTokenizer,
        "\(context): precompiled_charsmap declares a trie of \(trieSize) bytes in a \(blob.count)-byte blob."
      )
    }
    var units = [UInt32](repeating: 0, count: trieSize / 4)
    for i in 0..<units.count {
      let o = 4 + 4 * i
      units[i] =
        UInt32(blob[o]) | UInt32(blob[o + 1]) << 8 | UInt32(blob[o + 2]) << 16 | UInt32(blob[o + 3])
        << 24
    }
    trie = units
    replacements = Array(blob[(4 + trieSize)...])
  }

  /// Normalizes UTF-8 `input` (always valid: it comes from a Swift String).
  func normalize(_ input: [UInt8]) -> [UInt8] {
    input.withUnsafeBufferPointer { normalize($0) }
  }

  private func normalize(_ input: UnsafeBufferPointer<UInt8>) -> [UInt8] {
    replacements.withUnsafeBufferPointer { table in
      normalize(input, table)
    }
  }

  private func normalize(_ input: UnsafeBufferPointer<UInt8>, _ table: UnsafeBufferPointer<UInt8>)
    -> [UInt8]
  {
    var pos = 0
    let n = input.count
    if spec.removeExtraWhitespaces {
      // Drops leading spaces (after mapping).
      while pos < n {
        let (piece, consumed) = normalizePrefix(input, at: pos, table)
        if !(piece.count == 1 && piece[0] == 0x20) { break }
        pos += consumed
      }
    }
    if pos >= n { return [] }

    var out: [UInt8] = []
    out.reserveCapacity(n * 3 / 2 + 4)
    let space: [UInt8] = spec.escapeWhitespaces ? UTF8Scan.spaceSymbol : [0x20]
    if spec.addDummyPrefix { out.append(contentsOf: space) }

    var isPrevSpace = spec.removeExtraWhitespaces
    while pos < n {
      let (piece, consumed) = normalizePrefix(input, at: pos, table)
      var start = 0
      while isPrevSpace, start < piece.count, piece[start] == 0x20 { start += 1 }
      if start < piece.count {
        for i in start..<piece.count {
          if spec.escapeWhitespaces && piece[i] == 0x20 {
            out.append(contentsOf: UTF8Scan.spaceSymbol)
          } else {
            out.append(piece[i])
          }
        }
        isPrevSpace = piece[piece.count - 1] == 0x20
      }
      pos += consumed
      if !spec.removeExtraWhitespaces { isPrevSpace = false }
    }

    if spec.removeExtraWhitespaces {
      while out.count >= space.count, out[(out.count - space.count)...].elementsEqual(space) {
        out.removeLast(space.count)
      }
    }
    return out
  }

  private static let replacementCharacter: StaticString = "\u{FFFD}"

  /// One normalization step: the replacement for the longest mapped prefix at `pos`, or the
  /// character itself; and how many input bytes it consumed. The returned bytes point into
  /// `input`, `table` or a static string: no allocation per character.
  @inline(__always)
  private func normalizePrefix(
    _ input: UnsafeBufferPointer<UInt8>, at pos: Int, _ table: UnsafeBufferPointer<UInt8>
  ) -> (UnsafeBufferPointer<UInt8>, Int) {
    if let m = userDefined.longestMatch(input, from: pos) {
      return (UnsafeBufferPointer(rebasing: input[pos..<pos + m.length]), m.length)
    }
    if !trie.isEmpty, let (length, value) = longestTrieMatch(input, from: pos) {
      // A value past the table (a corrupt map) maps to nothing rather than trapping.
      let start = min(value, table.count)
      var end = start
      while end < table.count, table[end] != 0 { end += 1 }
      return (UnsafeBufferPointer(rebasing: table[start..<end]), length)
    }
    if let length = UTF8Scan.validCharLength(input, at: pos) {
      return (UnsafeBufferPointer(rebasing: input[pos..<pos + length]), length)
    }
    let r = Self.replacementCharacter
    return (UnsafeBufferPointer(start: r.utf8Start, count: r.utf8CodeUnitCount), 1)
  }

  /// Darts-clone `commonPrefixSearch`, keeping the longest of the first 32 results as
  /// sentencepiece does. Out-of-range units (a corrupt map) end the search.
  private func longestTrieMatch(_ key: UnsafeBufferPointer<UInt8>, from start: Int) -> (Int, Int)? {
    @inline(__always) func offset(_ u: UInt32) -> Int { Int((u >> 10) << ((u & (1 << 9)) >> 6)) }
    @inline(__always) func label(_ u: UInt32) -> UInt32 { u & ((1 << 31) | 0xFF) }
    @inline(__always) func hasLeaf(_ u: UInt32) -> Bool { (u >> 8) & 1 == 1 }
    @inline(__always) func value(_ u: UInt32) -> Int { Int(u & ((1 << 31) - 1)) }

    var nodePos = 0
    var unit = trie[0]
    nodePos ^= offset(unit)
    var best: (Int, Int)?
    var results = 0
    var i = start
    while i < key.count {
      let c = key[i]
      nodePos ^= Int(c)
      guard nodePos >= 0, nodePos < trie.count else { break }
      unit = trie[nodePos]
      if label(unit) != UInt32(c) { break }
      nodePos ^= offset(unit)
      guard nodePos >= 0, nodePos < trie.count else { break }
      if hasLeaf(unit) {
        if results < 32 { best = (i - start + 1, value(trie[nodePos])) }
        results += 1
      }
      i += 1
    }
    return best
  }
}
