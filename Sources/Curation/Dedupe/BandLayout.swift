/// Multi-index hashing for exact Hamming search: a 64-bit hash split into k = d + 1 bands.
/// Two hashes within distance d agree exactly on at least one band (pigeonhole: d differing bits
/// can touch at most d of the d + 1 bands).
///
/// Band i covers `bits[i]` bits starting `offsets[i]` bits above the least significant bit; the
/// first 64 mod k bands are one bit wider. Its raw value is `(h >> offset) & mask`, which
/// PostgreSQL computes the same way on int8 (the mask drops the sign-extended bits; a 64-bit band
/// also loses its top bit). The band index stores a 31-bit key (an `int` column): the raw value
/// itself for bands up to 31 bits (d ≥ 2), the raw value XOR-folded to 31 bits for the wider bands
/// of d = 0 and d = 1. Equal raw values give equal keys, so a bucket of one key still holds every
/// pair that agrees on the band; the few extra candidates a fold adds fail the 64-bit check.
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

  /// Bits of band `band`'s key: its width, at most 31.
  public func keyBits(band: Int) -> Int { min(bits[band], BandLayout.keyBits) }
  public static let keyBits = 31

  /// The raw value of band `band` of `hash`, masked as PostgreSQL masks it.
  public func raw(_ hash: UInt64, band: Int) -> UInt64 {
    (hash >> UInt64(offsets[band])) & UInt64(mask(band: band))
  }

  /// The 31-bit key of a raw band value (the identity below 2^31); PostgreSQL's
  /// `((b # (b >> 31) # (b >> 62)) & 2147483647)::int` computes the same.
  public static func key(raw: UInt64) -> Int {
    Int((raw ^ (raw >> 31) ^ (raw >> 62)) & 0x7FFF_FFFF)
  }

  /// The band index key of band `band` of `hash`.
  public func value(_ hash: UInt64, band: Int) -> Int { BandLayout.key(raw: raw(hash, band: band)) }

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
      let centre = raw(hash, band: band)
      // A 64-bit band's raw value has no top bit (see `mask`).
      let width = min(bits[band], 63)
      // Every value whose XOR with the centre has at most `radius` bits set.
      var masks: [UInt64] = []
      func extend(_ mask: UInt64, from start: Int, left: Int) {
        masks.append(mask)
        guard left > 0, start < width else { return }
        for bit in start..<width {
          extend(mask | (1 << UInt64(bit)), from: bit + 1, left: left - 1)
        }
      }
      extend(0, from: 0, left: min(radius, width))
      for mask in masks { result.append((band, BandLayout.key(raw: centre ^ mask))) }
    }
    return result
  }
}
