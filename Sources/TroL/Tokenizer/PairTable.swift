/// Open-addressing map from a token-id pair to its merge (rank, merged id): the BPE inner
/// loop's lookup, without `Hasher` or dictionary overhead.
struct PairTable: Sendable {
  private var keys: [UInt64]
  private var ranks: [Int32]
  private var ids: [Int32]
  private var mask: Int
  private static let empty = UInt64.max

  init(expectedCount: Int) {
    var capacity = 16
    while capacity < expectedCount * 2 { capacity <<= 1 }
    keys = [UInt64](repeating: Self.empty, count: capacity)
    ranks = [Int32](repeating: 0, count: capacity)
    ids = [Int32](repeating: 0, count: capacity)
    mask = capacity - 1
  }

  @inline(__always)
  static func key(_ a: Int32, _ b: Int32) -> UInt64 {
    UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b))
  }

  @inline(__always)
  private static func slot(_ key: UInt64, _ mask: Int) -> Int {
    var h = key &* 0x9E37_79B9_7F4A_7C15
    h ^= h >> 29
    return Int(truncatingIfNeeded: h) & mask
  }

  /// Sets the merge for `(a, b)`; a later merge of the same pair replaces an earlier one, as
  /// in `tokenizers` (it collects merges into a HashMap).
  mutating func set(_ a: Int32, _ b: Int32, rank: Int32, id: Int32) {
    let k = Self.key(a, b)
    var s = Self.slot(k, mask)
    while keys[s] != Self.empty && keys[s] != k { s = (s + 1) & mask }
    keys[s] = k
    ranks[s] = rank
    ids[s] = id
  }

  @inline(__always)
  func get(_ a: Int32, _ b: Int32) -> (rank: Int32, id: Int32)? {
    let k = Self.key(a, b)
    return keys.withUnsafeBufferPointer { keys in
      var s = Self.slot(k, mask)
      while true {
        let stored = keys[s]
        if stored == k { return (ranks[s], ids[s]) }
        if stored == Self.empty { return nil }
        s = (s + 1) & mask
      }
    }
  }
}
