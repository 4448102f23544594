internal import COpenBLAS

/// A weight held as f32: the exact reference format. Single rows and prefill go straight to
/// OpenBLAS (`sgemv` at m = 1, several times faster than `sgemm` there; `sgemm` for large m);
/// decode batches (1 < m < `TiledProduct.sgemmMinimumRows`) use the shared register-blocked
/// kernel on W in place, which reads W once for all rows where OpenBLAS's small-m sgemm is slow.
public final class F32Weight: LinearWeight, TiledWeight, @unchecked Sendable {
  public let outFeatures: Int
  public let inFeatures: Int
  /// W, [outFeatures, inFeatures], row-major.
  public let values: UnsafeMutableBufferPointer<Float>

  public var byteCount: Int { values.count * 4 }

  /// Takes a copy of `values` ([outFeatures * inFeatures], row-major).
  public init(outFeatures: Int, inFeatures: Int, values: [Float]) {
    precondition(
      values.count == outFeatures * inFeatures,
      "F32Weight: \(values.count) values for [\(outFeatures), \(inFeatures)]")
    TensorThreads.ensureConfigured()
    self.outFeatures = outFeatures
    self.inFeatures = inFeatures
    self.values = UnsafeMutableBufferPointer<Float>.allocate(capacity: values.count)
    _ = self.values.initialize(from: values)
  }

  /// Widens a checkpoint tensor of any dtype, shape [out, in], into an owned f32 copy.
  ///
  /// - Parameter raw: the tensor (f32, f16 or bf16).
  /// - Throws: `TensorError.invalidShape` unless the shape is 2-D.
  public init(_ raw: RawTensorData) throws {
    let (outF, inF) = try WeightShape.matrix(raw.shape, for: "F32Weight")
    outFeatures = outF
    inFeatures = inF
    values = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(1, outF * inF))
    if let base = values.baseAddress { HalfConversion.widen(raw, into: base) }
  }

  deinit { values.deallocate() }

  public func multiply(
    _ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, accumulate: Bool,
    scratch: MatmulScratch
  ) {
    let beta: Float = accumulate ? 1 : 0
    if rows == 1 || rows >= TiledProduct.sgemmMinimumRows { TensorThreads.yieldToBLAS() }
    if rows > 1 && rows < TiledProduct.sgemmMinimumRows {
      TiledProduct.multiply(self, x, rows: rows, into: y, accumulate: accumulate, scratch: scratch)
    } else if rows == 1 {
      cblas_sgemv(
        CblasRowMajor, CblasNoTrans, Int32(outFeatures), Int32(inFeatures), 1, values.baseAddress,
        Int32(inFeatures), x, 1, beta, y, 1)
    } else {
      cblas_sgemm(
        CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(outFeatures), Int32(inFeatures),
        1,
        x, Int32(inFeatures), values.baseAddress, Int32(inFeatures), beta, y, Int32(outFeatures))
    }
  }

  public func copyRow(_ r: Int, into destination: UnsafeMutablePointer<Float>) {
    precondition(r >= 0 && r < outFeatures, "F32Weight.copyRow: row \(r) of \(outFeatures)")
    destination.update(from: values.baseAddress! + r * inFeatures, count: inFeatures)
  }

  static var columnAlignment: Int { 1 }

  var f32Rows: UnsafePointer<Float>? { UnsafePointer(values.baseAddress) }

  func decodeTile(
    rows: Range<Int>, columns: Range<Int>, into tile: UnsafeMutablePointer<Float>, stride: Int
  ) {
    for (i, o) in rows.enumerated() {
      (tile + i * stride).update(
        from: values.baseAddress! + o * inFeatures + columns.lowerBound, count: columns.count)
    }
  }

  func prefetchTile(rows: Range<Int>, columns: Range<Int>, into level: Prefetch.Level) {
    for o in rows {
      Prefetch.bytes(
        values.baseAddress! + o * inFeatures + columns.lowerBound, count: 4 * columns.count,
        into: level)
    }
  }

  func dotRows(
    _ rows: Range<Int>, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, accumulate: Bool
  ) {
    cblas_sgemv(
      CblasRowMajor, CblasNoTrans, Int32(rows.count), Int32(inFeatures), 1,
      values.baseAddress! + rows.lowerBound * inFeatures, Int32(inFeatures), x, 1,
      accumulate ? 1 : 0,
      y + rows.lowerBound, 1)
  }
}
