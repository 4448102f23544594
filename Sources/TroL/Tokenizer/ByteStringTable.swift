/// A hash map from byte strings to ids, looked up by byte range without allocating.
///
/// Keys are raw UTF-8 bytes on purpose: Swift `String` equality is canonical equivalence
/// ("é" == "e\u{301}"), while the reference tokenizers compare bytes. Built once, then read-only.
struct ByteStringTable: Sendable {
  private struct Entry {
    var start: Int32
    var length: Int32
    var value: Int32
    var hash: UInt32
  }

  private var storage: [UInt8] = []
  private var entries: [Entry] = []
  /// Open addressing: each slot holds an entry index or -1.
  private var slots: [Int32]
  private var mask: Int

  init(expectedCount: Int) {
    var capacity = 16
    while capacity < expectedCount * 2 { capacity <<= 1 }
    slots = [Int32](repeating: -1, count: capacity)
    mask = capacity - 1
  }

  var count: Int { entries.count }

  /// Inserts `key`; keeps the first value when the key is already present and returns false.
  @discardableResult
  mutating func insert(_ key: some Collection<UInt8>, value: Int32) -> Bool {
    let bytes = Array(key)
    if lookup(bytes) != nil { return false }
    if (entries.count + 1) * 2 > slots.count { grow() }
    let hash = bytes.withUnsafeBufferPointer { Self.hash($0) }
    let entry = Int32(entries.count)
    entries.append(
      Entry(
        start: Int32(storage.count), length: Int32(bytes.count), value: value,
        hash: UInt32(truncatingIfNeeded: hash)))
    storage.append(contentsOf: bytes)
    place(entry, hash: hash)
    return true
  }

  @inline(__always)
  func lookup(_ key: UnsafeBufferPointer<UInt8>) -> Int32? {
    let hash = Self.hash(key)
    let tag = UInt32(truncatingIfNeeded: hash)
    return slots.withUnsafeBufferPointer { slots in
      entries.withUnsafeBufferPointer { entries in
        storage.withUnsafeBufferPointer { store in
          var slot = hash & mask
          while true {
            let e = Int(slots[slot])
            if e < 0 { return nil }
            let entry = entries[e]
            if entry.hash == tag && Int(entry.length) == key.count {
              let start = Int(entry.start)
              var i = 0
              while i < key.count && store[start + i] == key[i] { i += 1 }
              if i == key.count { return entry.value }
            }
            slot = (slot + 1) & mask
          }
        }
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
    for e in 0..<entries.count {
      let start = Int(entries[e].start)
      let hash = storage.withUnsafeBufferPointer {
        Self.hash(UnsafeBufferPointer(rebasing: $0[start..<start + Int(entries[e].length)]))
      }
      place(Int32(e), hash: hash)
    }
  }

  /// FNV-1a, 64 bit, folded.
  @inline(__always)
  static func hash(_ key: UnsafeBufferPointer<UInt8>) -> Int {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in key {
      h ^= UInt64(byte)
      h = h &* 0x100_0000_01b3
    }
    return Int(truncatingIfNeeded: h ^ (h >> 32))
  }
}
