internal import COpenBLAS

/// Software prefetch for the decode-batch kernels (see `TiledProduct.smallBatch`).
///
/// Those kernels alternate between reading a tile of W from memory and multiplying it from L1;
/// the hardware prefetchers idle during the multiply, so without a hint every tile's read
/// stalls on DRAM latency instead of overlapping the arithmetic (measured: f16 4096 × 2048 at
/// m = 8 on one thread, 3.2 ms without, 2.2 ms with prefetching two tiles ahead). The lines go
/// to L2 (see `trolley_prefetch`); the tile decode then reads them from there.
enum Prefetch {
  /// Asks for the cache lines covering `count` bytes at `start` (a hint: never faults).
  @inline(__always)
  static func bytes(_ start: UnsafeRawPointer, count: Int) {
    var offset = 0
    while offset < count {
      trolley_prefetch(start + offset)
      offset &+= 64
    }
    // The last line, when `start` is not line-aligned and the range ends in a further line.
    if count > 0 { trolley_prefetch(start + (count &- 1)) }
  }
}
