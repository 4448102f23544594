/// One linear layer's weight shape, and how many times a decode step multiplies by it.
public struct KernelShape: Codable, Sendable, Hashable {
  /// A short name ("wqkv", "w2", "output"...).
  public var name: String
  public var outFeatures: Int
  public var inFeatures: Int
  /// Products with this shape per decoded token (e.g. 24 layers, or 48 for w1 and w3).
  public var countPerToken: Int
  /// Whether prefill runs this product over all prompt tokens (the LM head runs on the last
  /// position only).
  public var inPrefill: Bool = true

  /// The language model of TroL-1.8B (InternLM2-1.8B): D = 2048, 24 layers, 16 query and 8
  /// key/value heads of 128 (wqkv out = (16 + 2·8)·128 = 4096), intermediate 8192, vocabulary
  /// 92544.
  public static let trol1_8B: [KernelShape] = [
    KernelShape(name: "wqkv", outFeatures: 4096, inFeatures: 2048, countPerToken: 24),
    KernelShape(name: "wo", outFeatures: 2048, inFeatures: 2048, countPerToken: 24),
    KernelShape(name: "w1,w3", outFeatures: 8192, inFeatures: 2048, countPerToken: 48),
    KernelShape(name: "w2", outFeatures: 2048, inFeatures: 8192, countPerToken: 24),
    KernelShape(
      name: "output", outFeatures: 92544, inFeatures: 2048, countPerToken: 1, inPrefill: false),
  ]
}

/// A weight format as the kernel benchmark builds it (16-bit split by dtype).
public enum KernelFormat: String, Codable, Sendable, CaseIterable {
  case f32, f16, bf16, q8, q4

  /// Builds a weight in this format from random bf16-representable values.
  func make(outFeatures: Int, inFeatures: Int, seed: UInt64) -> any LinearWeight {
    var state = seed
    let values = (0..<(outFeatures * inFeatures)).map { _ -> Float in
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return Float(Int32(truncatingIfNeeded: state >> 32)) * 0x1p-36
    }
    let dtype: StorageDType = self == .f16 ? .f16 : .bf16
    let raw = RawTensorData(copying: values, shape: [outFeatures, inFeatures], dtype: dtype)
    let format: WeightFormat =
      switch self {
      case .f32: .f32
      case .f16, .bf16: .f16
      case .q8: .q8
      case .q4: .q4
      }
    // The values are finite and the shape is 2-D, so building cannot fail.
    return (try? makeLinearWeight(raw, format: format))
      ?? F32Weight(outFeatures: 0, inFeatures: 0, values: [])
  }
}
