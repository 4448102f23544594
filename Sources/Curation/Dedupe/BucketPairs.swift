/// The pairs step of a batch dedupe inside one bucket of the band index: every pair of items
/// whose hashes are equal on band `band` is checked on all 64 bits, and a pair within the
/// distance is kept only if `band` is the first band the two agree on, so each pair is found by
/// exactly one (band, value range) job.
public struct BucketPairs: Sendable {
  public let layout: BandLayout
  public let band: Int
  /// Masks of the bands before `band`, in place (not shifted down).
  private let earlier: [UInt64]
  /// The mask of `band` in place: a folded key (bands over 31 bits) can put hashes that differ on
  /// the band into one bucket; such a pair is found in the band it does agree on.
  private let current: UInt64

  public init(layout: BandLayout, band: Int) {
    precondition((0..<layout.count).contains(band), "band \(band) is not in 0..<\(layout.count)")
    self.layout = layout
    self.band = band
    func inPlace(_ b: Int) -> UInt64 {
      let width = UInt64(layout.bits[b])
      let mask: UInt64 = width >= 64 ? .max : (1 << width) - 1
      return mask << UInt64(layout.offsets[b])
    }
    self.earlier = (0..<band).map(inPlace)
    self.current = inPlace(band)
  }

  /// Calls `emit(a, b, distance)` with a < b for every kept pair of one bucket.
  ///
  /// Quadratic in the bucket's size, which is what multi-index hashing trades for exactness: a
  /// uniform 1M-item set has about 120 items per 13-bit bucket.
  public func scan(
    ids: UnsafeBufferPointer<Int64>, hashes: UnsafeBufferPointer<UInt64>,
    emit: (Int64, Int64, Int) -> Void
  ) {
    let count = min(ids.count, hashes.count)
    guard count > 1 else { return }
    let limit = layout.distance
    for i in 0..<(count - 1) {
      let hi = hashes[i]
      for j in (i + 1)..<count {
        let difference = hi ^ hashes[j]
        let distance = difference.nonzeroBitCount
        if distance > limit || difference & current != 0 { continue }
        if earlier.contains(where: { difference & $0 == 0 }) { continue }
        let (a, b) = ids[i] < ids[j] ? (ids[i], ids[j]) : (ids[j], ids[i])
        emit(a, b, distance)
      }
    }
  }

  /// The band's key range of part `part` of `parts`: the band's 2^keyBits keys cut into `parts`
  /// equal slices (`parts` a power of two no wider than the band).
  public static func valueRange(layout: BandLayout, band: Int, part: Int, parts: Int)
    -> ClosedRange<Int>
  {
    let span = 1 << layout.keyBits(band: band)
    let slice = max(span / parts, 1)
    let lower = min(part * slice, span - 1)
    let upper = part == parts - 1 ? span - 1 : min((part + 1) * slice - 1, span - 1)
    return lower...upper
  }
}
