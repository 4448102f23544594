/// A hash map from byte strings to ids, looked up by byte range without allocating.
///
/// Keys are raw UTF-8 bytes on purpose: Swift `String` equality is canonical equivalence
/// ("é" == "e\u{301}"), while the reference tokenizers compare bytes. Built once, then read-only.
struct ByteStringTable: Sendable {
  private var storage: [UInt8] = []
  private var starts: [Int32] = []
  private var lengths: [Int32] = []
  private var values: [Int32] = []
  /// Open addressing: each slot holds an entry index or -1.
  private var slots: [Int32]
  private var mask: Int

  init(expectedCount: Int) {
    var capacity = 16
    while capacity < expectedCount * 2 { capacity <<= 1 }
    slots = [Int32](repeating: -1, count: capacity)
    mask = capacity - 1
  }

  var count: Int { values.count }

  /// Inserts `key`; keeps the first value when the key is already present and returns false.
  @discardableResult
  mutating func insert(_ key: some Collection<UInt8>, value: Int32) -> Bool {
    let bytes = Array(key)
    if bytes.withUnsafeBufferPointer({ lookup($0) }) != nil { return false }
    if (values.count + 1) * 2 > slots.count { grow() }
    let entry = Int32(values.count)
    starts.append(Int32(storage.count))
    lengths.append(Int32(bytes.count))
    values.append(value)
    storage.append(contentsOf: bytes)
    place(entry, hash: bytes.withUnsafeBufferPointer { Self.hash($0) })
    return true
  }

  func lookup(_ key: UnsafeBufferPointer<UInt8>) -> Int32? {
    var slot = Self.hash(key) & mask
    return storage.withUnsafeBufferPointer { store in
      while true {
        let entry = slots[slot]
        if entry < 0 { return nil }
        let e = Int(entry)
        if Int(lengths[e]) == key.count {
          let start = Int(starts[e])
          var equal = true
          for i in 0..<key.count where store[start + i] != key[i] {
            equal = false
            break
          }
          if equal { return values[e] }
        }
        slot = (slot + 1) & mask
      }
    }
  }

  func lookup(_ key: some Collection<UInt8>) -> Int32? {
    let bytes = Array(key)
    return bytes.withUnsafeBufferPointer { lookup($0) }
  }

  private mutating func place(_ entry: Int32, hash: Int) {
    var slot = hash & mask
    while slots[slot] >= 0 { slot = (slot + 1) & mask }
    slots[slot] = entry
  }

  private mutating func grow() {
    slots = [Int32](repeating: -1, count: slots.count * 2)
    mask = slots.count - 1
    for e in 0..<values.count {
      let start = Int(starts[e])
      let hash = storage.withUnsafeBufferPointer {
        Self.hash(UnsafeBufferPointer(rebasing: $0[start..<start + Int(lengths[e])]))
      }
      place(Int32(e), hash: hash)
    }
  }

  /// FNV-1a, 64 bit.
  @inline(__always)
  static func hash(_ key: UnsafeBufferPointer<UInt8>) -> Int {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in key {
      h ^= UInt64(byte)
      h = h &* 0x100_0000_01b3
    }
    return Int(truncatingIfNeeded: h ^ (h >> 29))
  }
}
