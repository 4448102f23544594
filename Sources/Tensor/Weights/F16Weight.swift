/// A weight held as IEEE f16, usually directly on the memory-mapped checkpoint bytes (no copy).
///
/// Products widen to f32 in registers and accumulate in f32, so the result equals the f32 product
/// of the widened matrix up to summation order. m = 1 and small batches run fused SIMD kernels
/// that read 2 bytes per weight; prefill widens row panels into `MatmulScratch` for sgemm
/// (see `TiledProduct`).
public final class F16Weight: LinearWeight, TiledWeight, @unchecked Sendable {
  public let outFeatures: Int
  public let inFeatures: Int
  let matrix: HalfMatrix
  /// Keeps the checkpoint mapping alive when the weight borrows its bytes.
  private let owner: AnyObject?
  /// Set when the weight owns its bytes (built from f32 values).
  private let owned: UnsafeMutableRawBufferPointer?

  static var columnAlignment: Int { 1 }

  public var byteCount: Int { outFeatures * inFeatures * 2 }

  /// Wraps a checkpoint tensor of dtype F16 and shape [out, in] without copying it.
  ///
  /// - Parameter raw: the tensor; its `owner` is retained for the weight's lifetime.
  /// - Throws: `TensorError.invalidShape` unless the shape is 2-D;
  ///   `TensorError.unsupportedFormat` unless the dtype is F16.
  public init(_ raw: RawTensorData) throws {
    let (outF, inF) = try WeightShape.matrix(raw.shape, for: "F16Weight")
    guard raw.dtype == .f16 else {
      throw TensorError(
        .unsupportedFormat,
        "F16Weight needs an F16 tensor, got \(raw.dtype.rawValue); use makeLinearWeight")
    }
    outFeatures = outF
    inFeatures = inF
    owner = raw.owner
    owned = nil
    let base = raw.bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 2)!
    matrix = HalfMatrix(base: base, outFeatures: outF, inFeatures: inF, dtype: .f16)
  }

  /// Narrows f32 values ([outFeatures * inFeatures], row-major) to an owned f16 copy, rounding to
  /// nearest even.
  public init(outFeatures: Int, inFeatures: Int, values: [Float]) {
    precondition(
      outFeatures >= 0 && inFeatures >= 0 && values.count == outFeatures * inFeatures,
      "F16Weight: \(values.count) values for [\(outFeatures), \(inFeatures)]")
    TensorThreads.ensureConfigured()
    self.outFeatures = outFeatures
    self.inFeatures = inFeatures
    let buffer = UnsafeMutableRawBufferPointer.allocate(
      byteCount: max(2, values.count * 2), alignment: 64)
    values.withUnsafeBufferPointer { v in
      if let source = v.baseAddress {
        HalfConversion.narrowToF16(source, into: buffer.baseAddress!, count: v.count)
      }
    }
    owned = buffer
    owner = nil
    matrix = HalfMatrix(
      base: UnsafeRawPointer(buffer.baseAddress!), outFeatures: outFeatures, inFeatures: inFeatures,
      dtype: .f16)
  }

  deinit { owned?.deallocate() }

  public func multiply(
    _ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, accumulate: Bool,
    scratch: MatmulScratch
  ) {
    tiledMultiply(x, rows: rows, into: y, accumulate: accumulate, scratch: scratch)
  }

  public func copyRow(_ r: Int, into destination: UnsafeMutablePointer<Float>) {
    tiledCopyRow(r, into: destination)
  }

  /// W widened to f32, [outFeatures * inFeatures] row-major.
  public func dequantized() -> [Float] { tiledDequantized() }

  /// The naive product against `dequantized()` (summed in f64): the reference the kernels are
  /// tested against.
  public func multiplyNaive(_ x: [Float], rows: Int) -> [Float] {
    tiledMultiplyNaive(x, rows: rows)
  }

  func decodeTile(
    rows: Range<Int>, columns: Range<Int>, into tile: UnsafeMutablePointer<Float>, stride: Int
  ) {
    matrix.decodeTile(rows: rows, columns: columns, into: tile, stride: stride)
  }

  func prefetchTile(rows: Range<Int>, columns: Range<Int>, into level: Prefetch.Level) {
    matrix.prefetchTile(rows: rows, columns: columns, into: level)
  }

  func dotRows(
    _ rows: Range<Int>, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, accumulate: Bool
  ) {
    matrix.dotRows(rows, x: x, y: y, accumulate: accumulate)
  }
}
