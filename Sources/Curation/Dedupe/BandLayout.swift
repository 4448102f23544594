/// Multi-index hashing for exact Hamming search: a 64-bit hash split into k = d + 1 bands.
/// Two hashes within distance d agree exactly on at least one band (pigeonhole: d differing bits
/// can touch at most d of the d + 1 bands).
///
/// Band i covers `bits[i]` bits starting `offsets[i]` bits above the least significant bit; the
/// first 64 mod k bands are one bit wider. Its value is `(h >> offset) & (2^bits − 1)`, which
/// PostgreSQL computes the same way on int8 (the mask drops the sign-extended bits).
public struct BandLayout: Sendable, Hashable {
  public let distance: Int
  public let offsets: [Int]
  public let bits: [Int]

  /// - Parameter distance: d, 0...31 (bands must stay at least 2 bits wide).
  public init(distance: Int) {
    precondition((0...31).contains(distance), "BandLayout distance must be 0...31, got \(distance)")
    self.distance = distance
    let count = distance + 1
    var offsets: [Int] = []
    var bits: [Int] = []
    var offset = 0
    for band in 0..<count {
      let width = 64 / count + (band < 64 % count ? 1 : 0)
      offsets.append(offset)
      bits.append(width)
      offset += width
    }
    self.offsets = offsets
    self.bits = bits
  }

  public var count: Int { offsets.count }

  /// The value of band `band` of `hash`.
  public func value(_ hash: UInt64, band: Int) -> Int {
    let shifted = hash >> UInt64(offsets[band])
    let mask: UInt64 = bits[band] >= 64 ? .max : (1 << UInt64(bits[band])) - 1
    return Int(shifted & mask)
  }

  /// The mask of band `band`, as PostgreSQL's int8 sees it.
  public func mask(band: Int) -> Int64 {
    bits[band] >= 63 ? Int64.max : (Int64(1) << Int64(bits[band])) - 1
  }
}

/// Hamming distance of two 64-bit hashes.
@inline(__always)
public func hammingDistance(_ a: UInt64, _ b: UInt64) -> Int { (a ^ b).nonzeroBitCount }

extension BandLayout {
  /// The (band, value) probes that find every stored hash within `distance` of `hash` in an
  /// index built with this layout, for any distance (not only the layout's own d): if two hashes
  /// differ in at most `distance` bits over k bands, some band differs in at most
  /// ⌊distance / k⌋ bits, so each band is probed at every value within that radius of the
  /// query's. At the layout's own d the radius is 0: k probes.
  public func probes(_ hash: UInt64, distance: Int) -> [(band: Int, value: Int)] {
    let radius = distance / count
    var result: [(band: Int, value: Int)] = []
    for band in 0..<count {
      let centre = value(hash, band: band)
      let width = bits[band]
      // Every value whose XOR with the centre has at most `radius` bits set.
      var masks: [Int] = []
      func extend(_ mask: Int, from start: Int, left: Int) {
        masks.append(mask)
        guard left > 0, start < width else { return }
        for bit in start..<width { extend(mask | (1 << bit), from: bit + 1, left: left - 1) }
      }
      extend(0, from: 0, left: min(radius, width))
      for mask in masks { result.append((band, centre ^ mask)) }
    }
    return result
  }
}
