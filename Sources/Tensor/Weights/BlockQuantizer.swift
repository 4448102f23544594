internal import Synchronization
import TrolleyBasics

/// Quantizes a weight matrix row by row into blocks of `blockSize` consecutive values, in parallel
/// across rows, widening each source row (any storage dtype) to f32 first.
enum BlockQuantizer {
  static let blockSize = 32

  /// Calls `quantizeRow(o, row)` for every row o with row o of `raw` widened to f32.
  ///
  /// - Throws: `TensorError.nonFiniteValue` naming the first row that holds NaN or infinity.
  static func forEachRow(
    of raw: RawTensorData, outFeatures: Int, inFeatures: Int, format: String,
    _ quantizeRow: (Int, UnsafePointer<Float>) -> Void
  ) throws {
    let badRow = Mutex<Int?>(nil)
    guard let base = raw.bytes.baseAddress, inFeatures > 0 else { return }
    TensorThreads.parallelRanges(outFeatures, granule: 1, minimumPerThread: 16) { rows in
      withUnsafeTemporaryAllocation(of: Float.self, capacity: inFeatures) { buffer in
        let row = buffer.baseAddress!
        for o in rows {
          let source = base + o * inFeatures * raw.dtype.byteWidth
          switch raw.dtype {
          case .f32:
            UnsafeMutableRawPointer(row).copyMemory(from: source, byteCount: inFeatures * 4)
          case .f16: HalfConversion.widenF16(source, into: row, count: inFeatures)
          case .bf16: HalfConversion.widenBF16(source, into: row, count: inFeatures)
          }
          if !allFinite(row, count: inFeatures) {
            badRow.withLock { $0 = min($0 ?? o, o) }
            continue
          }
          quantizeRow(o, row)
        }
      }
    }
    if let o = badRow.withLock({ $0 }) {
      throw TensorError(
        .nonFiniteValue,
        "cannot quantize to \(format): row \(o) of the [\(outFeatures), \(inFeatures)] weight holds NaN or infinity; the checkpoint is corrupt"
      )
    }
  }

  private static func allFinite(_ row: UnsafePointer<Float>, count: Int) -> Bool {
    for k in 0..<count where !row[k].isFinite { return false }
    return true
  }
}

/// The memory of a block-quantized [out, in] matrix: `quantsPerBlock` quants per block of
/// `BlockQuantizer.blockSize` inputs, 64-byte aligned, and an f16 scale per block, all zero at
/// first (so a partial last block reads as zero-padded). Its weight frees it in its `deinit`.
struct QuantizedBlocks<Quant> {
  /// Blocks per row: ⌈inFeatures / 32⌉.
  let perRow: Int
  /// [outFeatures, perRow * quantsPerBlock].
  let quants: UnsafeMutableBufferPointer<Quant>
  /// [outFeatures, perRow].
  let scales: UnsafeMutableBufferPointer<Float16>

  init(outFeatures: Int, inFeatures: Int, quantsPerBlock: Int) {
    perRow = (inFeatures + BlockQuantizer.blockSize - 1) / BlockQuantizer.blockSize
    quants = Self.zeroed(outFeatures * perRow * quantsPerBlock, alignment: 64)
    scales = Self.zeroed(outFeatures * perRow)
  }

  /// Bytes of quants and scales.
  var byteCount: Int { quants.count * MemoryLayout<Quant>.stride + scales.count * 2 }

  func deallocate() {
    quants.deallocate()
    scales.deallocate()
  }

  /// `count` (at least one) zeroed elements, at least `alignment`-byte aligned.
  static func zeroed<T>(_ count: Int, alignment: Int = 16) -> UnsafeMutableBufferPointer<T> {
    let count = max(1, count)
    let bytes = count * MemoryLayout<T>.stride
    let raw = UnsafeMutableRawPointer.allocate(
      byteCount: bytes, alignment: max(alignment, MemoryLayout<T>.alignment))
    raw.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
    return UnsafeMutableBufferPointer(
      start: raw.bindMemory(to: T.self, capacity: count), count: count)
  }
}
