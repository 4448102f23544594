/// A weight held in its checkpoint's 16-bit format, f16 or bf16: half the memory and half the
/// decode traffic of f32, at no loss (products widen to f32 in registers and accumulate in f32).
///
/// The values are repacked once, at load, into output panels (see `HalfPanels`), so the weight
/// owns its bytes and the checkpoint's mapped pages can be released.
public final class HalfWeight: LinearWeight, @unchecked Sendable {
  public var outFeatures: Int { panels.outFeatures }
  public var inFeatures: Int { panels.inFeatures }
  /// `.f16` or `.bf16`.
  public var dtype: StorageDType { panels.dtype }
  let panels: HalfPanels

  public var byteCount: Int { panels.byteCount }

  /// Repacks a checkpoint tensor of dtype F16 or BF16 and shape [out, in].
  ///
  /// - Throws: `TensorError.invalidShape` unless the shape is 2-D;
  ///   `TensorError.unsupportedFormat` unless the dtype is F16 or BF16.
  public convenience init(_ raw: RawTensorData) throws {
    let (outF, inF) = try WeightShape.matrix(raw.shape, for: "HalfWeight")
    guard raw.dtype == .f16 || raw.dtype == .bf16 else {
      throw TensorError(
        .unsupportedFormat,
        "HalfWeight needs an F16 or BF16 tensor, got \(raw.dtype.rawValue); use makeLinearWeight")
    }
    self.init(packing: raw, outFeatures: outF, inFeatures: inF)
  }

  /// Narrows f32 values ([outFeatures * inFeatures], row-major) to `dtype` (`.f16` or `.bf16`),
  /// rounding to nearest even.
  public convenience init(outFeatures: Int, inFeatures: Int, values: [Float], dtype: StorageDType) {
    precondition(
      outFeatures >= 0 && inFeatures >= 0 && values.count == outFeatures * inFeatures,
      "HalfWeight: \(values.count) values for [\(outFeatures), \(inFeatures)]")
    precondition(dtype == .f16 || dtype == .bf16, "HalfWeight: \(dtype.rawValue) is not 16-bit")
    self.init(
      packing: RawTensorData(copying: values, shape: [outFeatures, inFeatures], dtype: dtype),
      outFeatures: outFeatures, inFeatures: inFeatures)
  }

  /// Repacks `raw`, already checked to be a 16-bit [outFeatures, inFeatures] matrix.
  private init(packing raw: RawTensorData, outFeatures: Int, inFeatures: Int) {
    TensorThreads.ensureConfigured()
    let base = raw.bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 2)!
    panels = HalfPanels(
      rowMajor: base, outFeatures: outFeatures, inFeatures: inFeatures, dtype: raw.dtype)
  }

  deinit { panels.deallocate() }

  public func multiply(
    _ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, accumulate: Bool,
    scratch: MatmulScratch
  ) {
    panels.multiply(x, rows: rows, into: y, accumulate: accumulate, scratch: scratch)
  }

  public func copyRow(_ r: Int, into destination: UnsafeMutablePointer<Float>) {
    precondition(r >= 0 && r < outFeatures, "copyRow: row \(r) of \(outFeatures)")
    panels.copyRow(r, into: destination)
  }

  /// W widened to f32, [outFeatures * inFeatures] row-major.
  public func dequantized() -> [Float] {
    [Float](unsafeUninitializedCapacity: outFeatures * inFeatures) { buffer, initialized in
      for o in 0..<outFeatures { panels.copyRow(o, into: buffer.baseAddress! + o * inFeatures) }
      initialized = outFeatures * inFeatures
    }
  }
}
