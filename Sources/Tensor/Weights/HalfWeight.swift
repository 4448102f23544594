import TrolleyBasics

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
  /// `.bf16`: prefill products round to bf16 (`ComputeMode.bf16`); else `.f32`.
  public let compute: ComputeMode
  /// Keeps borrowed panel memory (a mapped packed-weights file) alive.
  private let owner: AnyObject?

  public var byteCount: Int { panels.byteCount }

  /// Repacks a checkpoint tensor of dtype F16 or BF16 and shape [out, in].
  ///
  /// - Throws: `TensorError.invalidShape` unless the shape is 2-D;
  ///   `TensorError.unsupportedFormat` unless the dtype is F16 or BF16.
  ///   `compute` `.int8`, which 16-bit weights cannot run.
  public convenience init(_ raw: RawTensorData, compute: ComputeMode = .f32) throws {
    let (outF, inF) = try WeightShape.matrix(raw.shape, for: "HalfWeight")
    guard raw.dtype == .f16 || raw.dtype == .bf16 else {
      throw TensorError(
        .unsupportedFormat,
        "HalfWeight needs an F16 or BF16 tensor, got \(raw.dtype.rawValue); use makeLinearWeight")
    }
    guard compute != .int8 else {
      throw TensorError(.unsupportedFormat, "int8 compute needs q8 weights, not 16-bit ones")
    }
    self.init(packing: raw, outFeatures: outF, inFeatures: inF, compute: compute)
  }

  /// Narrows f32 values ([outFeatures * inFeatures], row-major) to `dtype` (`.f16` or `.bf16`),
  /// rounding to nearest even.
  public convenience init(
    outFeatures: Int, inFeatures: Int, values: [Float], dtype: StorageDType,
    compute: ComputeMode = .f32
  ) {
    precondition(
      outFeatures >= 0 && inFeatures >= 0 && values.count == outFeatures * inFeatures,
      "HalfWeight: \(values.count) values for [\(outFeatures), \(inFeatures)]")
    precondition(dtype == .f16 || dtype == .bf16, "HalfWeight: \(dtype.rawValue) is not 16-bit")
    self.init(
      packing: RawTensorData(copying: values, shape: [outFeatures, inFeatures], dtype: dtype),
      outFeatures: outFeatures, inFeatures: inFeatures, compute: compute == .bf16 ? .bf16 : .f32)
  }

  /// Repacks `raw`, already checked to be a 16-bit [outFeatures, inFeatures] matrix.
  private init(
    packing raw: RawTensorData, outFeatures: Int, inFeatures: Int, compute: ComputeMode
  ) {
    TensorThreads.ensureConfigured()
    let base = raw.bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 2)!
    panels = HalfPanels(
      rowMajor: base, outFeatures: outFeatures, inFeatures: inFeatures, dtype: raw.dtype)
    owner = nil
    self.compute = compute
  }

  /// Uses panels packed earlier (`packedBytes` of a weight of the same shape and dtype, e.g. from
  /// a mapped packed-weights file) in place; `owner` keeps their memory alive.
  ///
  /// - Throws: `TensorError.invalidShape` when `packed` has not exactly
  ///   `packedByteCount(outFeatures:inFeatures:)` bytes or is not 64-byte aligned;
  ///   `unsupportedFormat` unless `dtype` is 16-bit.
  public init(
    packed: UnsafeRawBufferPointer, outFeatures: Int, inFeatures: Int, dtype: StorageDType,
    owner: AnyObject, compute: ComputeMode = .f32
  ) throws {
    guard dtype == .f16 || dtype == .bf16 else {
      throw TensorError(.unsupportedFormat, "packed HalfWeight: \(dtype.rawValue) is not 16-bit")
    }
    let expected = Self.packedByteCount(outFeatures: outFeatures, inFeatures: inFeatures)
    guard outFeatures >= 0, inFeatures >= 0, packed.count == expected,
      let base = packed.baseAddress ?? (expected == 0 ? UnsafeRawPointer(bitPattern: 64) : nil),
      UInt(bitPattern: base) % 64 == 0
    else {
      throw TensorError(
        .invalidShape,
        "packed HalfWeight [\(outFeatures), \(inFeatures)]: \(packed.count) bytes, expected \(expected) at a 64-byte aligned address"
      )
    }
    panels = HalfPanels(
      packed: base, outFeatures: outFeatures, inFeatures: inFeatures, dtype: dtype)
    self.owner = owner
    self.compute = compute == .bf16 ? .bf16 : .f32
  }

  /// Bytes of the packed panels of a [outFeatures, inFeatures] 16-bit weight (`packedBytes`).
  public static func packedByteCount(outFeatures: Int, inFeatures: Int) -> Int {
    (outFeatures + HalfPanels.width - 1) / HalfPanels.width * inFeatures * HalfPanels.lineBytes
  }

  /// The packed panels, for a packed-weights cache (see `init(packed:…)`).
  public var packedBytes: UnsafeRawBufferPointer {
    UnsafeRawBufferPointer(
      start: panels.storage.baseAddress,
      count: Self.packedByteCount(outFeatures: outFeatures, inFeatures: inFeatures))
  }

  /// The stored 16 bits of W[row, column] (to check packed bytes against their source).
  public func storedBits(row: Int, column: Int) -> UInt16 {
    precondition(
      row >= 0 && row < outFeatures && column >= 0 && column < inFeatures,
      "storedBits: [\(row), \(column)] of [\(outFeatures), \(inFeatures)]")
    return panels.storedBits(row: row, column: column)
  }

  deinit { panels.deallocate() }

  public func multiply(
    _ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, accumulate: Bool,
    scratch: MatmulScratch
  ) {
    panels.multiply(
      x, rows: rows, into: y, accumulate: accumulate, scratch: scratch, compute: compute)
  }

  public func copyRow(_ r: Int, into destination: UnsafeMutablePointer<Float>) {
    precondition(r >= 0 && r < outFeatures, "copyRow: row \(r) of \(outFeatures)")
    panels.copyRow(r, into: destination)
  }
}
