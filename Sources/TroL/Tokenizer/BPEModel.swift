import TrolleyBasics

/// The BPE model of Hugging Face `tokenizers` (`models/bpe`): ranked merges over the
/// characters of one pre-tokenized piece, with byte fallback and unknown-token fusing.
struct BPEModel: Sendable {
  let vocab: ByteStringTable
  /// Token bytes by id (nil where the vocabulary has a gap).
  let tokensByID: [[UInt8]?]
  /// (left id, right id) -> (rank, merged id).
  private let merges: PairTable
  private let byteIDs: [Int32]?
  let unkID: Int?
  let fuseUnk: Bool
  let byteFallback: Bool
  let continuingSubwordPrefix: [UInt8]?
  let endOfWordSuffix: [UInt8]?
  let ignoreMerges: Bool

  init(json model: [String: Any], file: String) throws {
    guard (model["type"] as? String ?? "BPE") == "BPE" else {
      throw TroLError(
        .invalidTokenizer,
        "\(file): model type \(model["type"] ?? "?") is not supported; only BPE (Llama, Phi-3) is.")
    }
    if let dropout = model["dropout"] as? Double, dropout > 0 {
      throw TroLError(
        .invalidTokenizer, "\(file): BPE dropout \(dropout) makes encoding random; it must be null."
      )
    }
    guard let vocabObject = model["vocab"] as? [String: Any] else {
      throw TroLError(.invalidTokenizer, "\(file): model.vocab is missing.")
    }
    var vocab = ByteStringTable(expectedCount: vocabObject.count)
    var maxID = -1
    var pairs: [([UInt8], Int)] = []
    pairs.reserveCapacity(vocabObject.count)
    for (token, value) in vocabObject {
      guard let id = TokenizerJSON.int(value), TokenizerJSON.isPlausibleID(id) else {
        throw TroLError(
          .invalidTokenizer, "\(file): vocab entry \(token.debugDescription) has no valid id.")
      }
      pairs.append((Array(token.utf8), id))
      maxID = max(maxID, id)
    }
    var byID = [[UInt8]?](repeating: nil, count: maxID + 1)
    for (bytes, id) in pairs {
      vocab.insert(bytes, value: Int32(id))
      byID[id] = bytes
    }
    self.vocab = vocab
    self.tokensByID = byID
    continuingSubwordPrefix = (model["continuing_subword_prefix"] as? String).map { Array($0.utf8) }
    endOfWordSuffix = (model["end_of_word_suffix"] as? String).map { Array($0.utf8) }
    fuseUnk = TokenizerJSON.bool(model["fuse_unk"]) ?? false
    byteFallback = TokenizerJSON.bool(model["byte_fallback"]) ?? false
    ignoreMerges = TokenizerJSON.bool(model["ignore_merges"]) ?? false
    if let unk = model["unk_token"] as? String {
      guard let id = vocab.lookup(Array(unk.utf8)) else {
        throw TroLError(
          .invalidTokenizer, "\(file): unk_token \(unk.debugDescription) is not in the vocabulary.")
      }
      unkID = Int(id)
    } else {
      unkID = nil
    }
    if byteFallback {
      var ids = [Int32](repeating: -1, count: 256)
      for b in 0..<256 { ids[b] = vocab.lookup(UTF8Scan.pieceName(forByte: UInt8(b))) ?? -1 }
      byteIDs = ids
    } else {
      byteIDs = nil
    }

    let rawMerges = model["merges"] as? [Any] ?? []
    var merges = PairTable(expectedCount: rawMerges.count)
    let prefixLength = continuingSubwordPrefix?.count ?? 0
    for (rank, entry) in rawMerges.enumerated() {
      let parts: [String]
      if let line = entry as? String {
        parts = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
      } else if let pair = entry as? [String] {
        parts = pair
      } else {
        parts = []
      }
      guard parts.count == 2 else {
        throw TroLError(.invalidTokenizer, "\(file): merge \(rank) is not a pair of tokens.")
      }
      let a = Array(parts[0].utf8)
      let b = Array(parts[1].utf8)
      guard let aID = vocab.lookup(a), let bID = vocab.lookup(b) else {
        throw TroLError(
          .invalidTokenizer,
          "\(file): merge \(rank) (\(entry)) uses a token missing from the vocabulary.")
      }
      var merged = a
      if let prefix = continuingSubwordPrefix, b.starts(with: prefix) {
        merged += b[prefixLength...]
      } else {
        merged += b
      }
      guard let newID = vocab.lookup(merged) else {
        throw TroLError(
          .invalidTokenizer,
          "\(file): merge \(rank) (\(entry)) produces a token missing from the vocabulary.")
      }
      merges.set(aID, bID, rank: Int32(rank), id: newID)
    }
    self.merges = merges
  }

  private struct Symbol {
    var id: Int32
    var prev: Int32
    var next: Int32
    var length: Int32
  }

  private struct Merge: MergeCandidate {
    var rank: Int32
    var pos: Int32
    var newID: Int32
    @inline(__always) func precedes(_ o: Merge) -> Bool {
      rank < o.rank || (rank == o.rank && pos < o.pos)
    }
  }

  /// Ids of one pre-tokenized piece (`BPE::tokenize` without the cache).
  func encode(_ word: ArraySlice<UInt8>, into ids: inout [Int]) {
    if word.isEmpty { return }
    if ignoreMerges, let id = vocab.lookup(word) {
      ids.append(Int(id))
      return
    }
    var symbols: [Symbol] = []
    symbols.reserveCapacity(word.count)
    var unk: (id: Int32, length: Int32)?
    func add(_ id: Int32, _ length: Int32) {
      let index = Int32(symbols.count)
      if index > 0 { symbols[Int(index) - 1].next = index }
      symbols.append(Symbol(id: id, prev: index - 1, next: -1, length: length))
    }
    var i = word.startIndex
    while i < word.endIndex {
      let n = min(UTF8Scan.charLength(lead: word[i]), word.endIndex - i)
      let isFirst = i == word.startIndex
      let isLast = i + n == word.endIndex
      let affixed =
        (!isFirst && continuingSubwordPrefix != nil) || (isLast && endOfWordSuffix != nil)
      var s: [UInt8] = []
      let found: Int32?
      if affixed {
        s = Array(word[i..<i + n])
        if !isFirst, let prefix = continuingSubwordPrefix { s = prefix + s }
        if isLast, let suffix = endOfWordSuffix { s += suffix }
        found = vocab.lookup(s)
      } else {
        found = word.withUnsafeBufferPointer {
          vocab.lookup(
            UnsafeBufferPointer(rebasing: $0[(i - word.startIndex)..<(i - word.startIndex + n)]))
        }
      }
      if let id = found {
        if let u = unk {
          add(u.id, u.length)
          unk = nil
        }
        add(id, Int32(n))
      } else {
        var handled = false
        if let byteIDs {
          let bytes = affixed ? s : Array(word[i..<i + n])
          if bytes.allSatisfy({ byteIDs[Int($0)] >= 0 }) {
            // tokenizers does not flush a pending unknown here; neither do we.
            for b in bytes { add(byteIDs[Int(b)], 1) }
            handled = true
          }
        }
        if !handled, let unkID {
          if let u = unk {
            if fuseUnk {
              unk = (u.id, u.length + Int32(n))
            } else {
              add(u.id, u.length)
              unk = (Int32(unkID), Int32(n))
            }
          } else {
            unk = (Int32(unkID), Int32(n))
          }
        }
      }
      i += n
    }
    if let u = unk { add(u.id, u.length) }

    mergeAll(&symbols)
    for s in symbols where s.length > 0 { ids.append(Int(s.id)) }
  }

  /// `Word::merge_all`: lowest rank first, then leftmost; stale queue entries are skipped.
  private func mergeAll(_ symbols: inout [Symbol]) {
    guard symbols.count > 1 else { return }
    var queue = MergeQueue<Merge>(capacity: symbols.count * 2)
    symbols.withUnsafeMutableBufferPointer { sym in
      for i in 0..<(sym.count - 1) {
        if let m = merges.get(sym[i].id, sym[i + 1].id) {
          queue.push(Merge(rank: m.rank, pos: Int32(i), newID: m.id))
        }
      }
      while !queue.isEmpty {
        let top = queue.pop()
        let pos = Int(top.pos)
        if sym[pos].length == 0 || sym[pos].next == -1 { continue }
        let nextPos = Int(sym[pos].next)
        let right = sym[nextPos]
        guard let m = merges.get(sym[pos].id, right.id), m.id == top.newID else { continue }
        sym[pos].id = top.newID
        sym[pos].length += right.length
        sym[pos].next = right.next
        sym[nextPos].length = 0
        if right.next >= 0 && Int(right.next) < sym.count { sym[Int(right.next)].prev = top.pos }
        let current = sym[pos]
        if current.prev >= 0, let m = merges.get(sym[Int(current.prev)].id, current.id) {
          queue.push(Merge(rank: m.rank, pos: current.prev, newID: m.id))
        }
        if current.next >= 0, Int(current.next) < sym.count,
          let m = merges.get(current.id, sym[Int(current.next)].id)
        {
          queue.push(Merge(rank: m.rank, pos: top.pos, newID: m.id))
        }
      }
    }
  }
}
