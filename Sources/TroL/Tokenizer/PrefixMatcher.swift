/// Longest-prefix matching over a fixed set of byte strings (SentencePiece user-defined
/// symbols, Hugging Face added tokens). A byte trie: lookups cost the match length.
struct PrefixMatcher: Sendable {
  /// Children of each node, as (byte, child) pairs kept sorted by byte.
  private var children: [[(UInt8, Int32)]] = [[]]
  /// The value stored at a node where a key ends, or -1.
  private var terminal: [Int32] = [-1]

  init() {}

  var isEmpty: Bool { children.count == 1 }

  mutating func insert(_ key: [UInt8], value: Int32) {
    guard !key.isEmpty else { return }
    var node = 0
    for byte in key {
      if let next = child(node, byte) {
        node = next
      } else {
        let next = children.count
        children.append([])
        terminal.append(-1)
        let list = children[node]
        let at = list.firstIndex { $0.0 > byte } ?? list.count
        children[node].insert((byte, Int32(next)), at: at)
        node = next
      }
    }
    if terminal[node] < 0 { terminal[node] = value }
  }

  @inline(__always)
  private func child(_ node: Int, _ byte: UInt8) -> Int? {
    for (b, c) in children[node] where b == byte { return Int(c) }
    return nil
  }

  /// The longest key that is a prefix of `bytes[start...]`: (length, value), or nil.
  func longestMatch(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> (
    length: Int, value: Int32
  )? {
    var node = 0
    var best: (Int, Int32)?
    var i = start
    while i < bytes.count, let next = child(node, bytes[i]) {
      node = next
      i += 1
      if terminal[node] >= 0 { best = (i - start, terminal[node]) }
    }
    return best
  }

  /// Whether some key starts at `bytes[start]` (any length).
  func hasMatch(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Bool {
    longestMatch(bytes, from: start) != nil
  }
}
