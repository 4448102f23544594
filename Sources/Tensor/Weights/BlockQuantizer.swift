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
