internal import CProcessor

/// Software prefetch for the decode-batch kernels (see `TiledProduct.smallBatch`).
///
/// Those kernels alternate between reading a tile of W from memory and multiplying it from L1;
/// the hardware prefetchers idle during the multiply, so without a hint every tile's read
/// stalls on DRAM latency instead of overlapping the arithmetic (measured: f16 4096 × 2048 at
/// m = 8 on one thread, 3.2 ms without, 2.2 ms with prefetching two tiles ahead). Two stages:
/// the tile two steps ahead comes from DRAM into L2, the next one from L2 into L1 (see
/// `trolley_prefetch`; the second stage measured ~9% faster for f16 at m = 8 in the median of 7
/// interleaved runs, and within the noise for q8/q4).
enum Prefetch {
  /// Where prefetched lines should go.
  enum Level {
    /// L2: for lines still in DRAM (two tiles ahead).
    case l2
    /// L1: for lines already on their way to L2 (the next tile).
    case l1
  }

  /// Asks for the cache lines covering `count` bytes at `start` (a hint: never faults).
  @inline(__always)
  static func bytes(_ start: UnsafeRawPointer, count: Int, into level: Level) {
    var offset = 0
    while offset < count {
      line(start + offset, level)
      offset &+= 64
    }
    // The last line, when `start` is not line-aligned and the range ends in a further line.
    if count > 0 { line(start + (count &- 1), level) }
  }

  @inline(__always)
  private static func line(_ address: UnsafeRawPointer, _ level: Level) {
    switch level {
    case .l2: trolley_prefetch(address)
    case .l1: trolley_prefetch_l1(address)
    }
  }
}
