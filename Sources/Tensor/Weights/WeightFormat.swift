import TrolleyBasics

/// How a linear layer's weight is held in memory, chosen once when a checkpoint is loaded.
public enum WeightFormat: String, Sendable, Hashable, CaseIterable {
  /// f32: the exact reference (twice the memory of a 16-bit checkpoint).
  case f32
  /// The checkpoint's own 16-bit format, f16 or bf16, kept as stored (no loss), repacked into output panels.
  /// An f32 checkpoint tensor stays f32.
  case f16
  /// 8-bit blocks of 32 with an f16 scale (8.5 bits per weight).
  case q8
  /// 4-bit blocks of 32 with an f16 scale and minimum (5 bits per weight).
  case q4
}

/// Builds the weight for one checkpoint tensor in the requested format.
///
/// - Parameters:
///   - raw: a 2-D tensor [out, in] (PyTorch `Linear` layout) of any storage dtype.  Every format
///     copies, repacks or quantizes, so `raw`'s bytes may be released once this returns.
///   - format: the in-memory format.
///   - compute: how prefill products multiply; `.bf16` needs `.f16`, `.int8` needs `.q8` (an
///     f32 tensor under `.f16` stays exact f32).
/// - Returns: a weight whose products read the chosen format.
/// - Throws: `TensorError.invalidShape` unless `raw` is 2-D; `TensorError.nonFiniteValue` when
///   quantizing a tensor that holds NaN or infinity; `TensorError.unsupportedFormat` when
///   `compute` needs another format.
public func makeLinearWeight(
  _ raw: RawTensorData, format: WeightFormat, compute: ComputeMode = .f32
) throws -> any LinearWeight {
  if let required = compute.requiredWeights, required != format {
    throw TensorError(
      .unsupportedFormat,
      "--compute \(compute.rawValue) needs --weights \(required.rawValue), not \(format.rawValue)")
  }
  switch format {
  case .f32:
    return try F32Weight(raw)
  case .f16:
    switch raw.dtype {
    case .f16, .bf16: return try HalfWeight(raw, compute: compute)
    case .f32: return try F32Weight(raw)
    }
  case .q8:
    return try Q8Weight(raw, compute: compute)
  case .q4:
    return try Q4Weight(raw)
  }
}
