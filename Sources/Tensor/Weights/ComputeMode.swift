internal import CProcessor

/// How prefill and vision products multiply (`--compute`), chosen once when a checkpoint is
/// loaded. Decode products (a few rows) are memory bound and always run the weight format's
/// f32 kernels.
public enum ComputeMode: String, Sendable, Hashable, CaseIterable {
  /// f32 inputs, f32 accumulation: the exact reference (default).
  case f32
  /// Activations and weights rounded to bf16, products summed in f32: `vdpbf16ps` on CPUs with
  /// AVX512-BF16, else the same values widened to f32 and multiplied by sgemm. 16-bit weights
  /// (`--weights f16`) only.
  case bf16
  /// Activations quantized to int8 per row, times q8 weights, int32 sums per block of 32:
  /// `vpdpbusd` with AVX512-VNNI, else AVX2 `vpmaddubsw` + `vpmaddwd`. q8 weights only.
  case int8

  /// The weight format a mode needs (nil: any).
  public var requiredWeights: WeightFormat? {
    switch self {
    case .f32: nil
    case .bf16: .f16
    case .int8: .q8
    }
  }
}

/// The instruction set an int8 product runs on.
public enum Int8Kernel: String, Sendable, CaseIterable {
  case avx2
  case vnni

  /// Whether this CPU can run it.
  public var isAvailable: Bool {
    switch self {
    case .avx2: true
    case .vnni: trolley_cpu_has_avx512_vnni() != 0
    }
  }

  /// VNNI when the CPU has it, unless `TROLLEY_KERNELS=avx2` forbids it.
  public static let best: Int8Kernel =
    !VectorISA.onlyAVX2 && Int8Kernel.vnni.isAvailable ? .vnni : .avx2
}

/// The instruction set a bf16 product runs on.
public enum BF16Kernel: String, Sendable, CaseIterable {
  /// bf16 values widened to f32 and multiplied by sgemm (same products, any x86-64 CPU).
  case avx2
  /// `vdpbf16ps`.
  case avx512bf16

  public var isAvailable: Bool {
    switch self {
    case .avx2: true
    case .avx512bf16: trolley_cpu_has_avx512_bf16() != 0
    }
  }

  /// AVX512-BF16 when the CPU has it, unless `TROLLEY_KERNELS=avx2` forbids it.
  public static let best: BF16Kernel =
    !VectorISA.onlyAVX2 && BF16Kernel.avx512bf16.isAvailable ? .avx512bf16 : .avx2
}

/// bf16 rounding (to nearest even, as `vcvtneps2bf16` does), kept as f32 or as its 16 bits.
public enum BF16Rounding {
  @inline(__always)
  public static func bits(_ value: Float) -> UInt16 {
    let b = value.bitPattern
    if value.isNaN { return UInt16(b >> 16) | 0x40 }
    return UInt16((b &+ 0x7FFF &+ ((b >> 16) & 1)) >> 16)
  }

  @inline(__always)
  public static func rounded(_ value: Float) -> Float {
    Float(bitPattern: UInt32(bits(value)) << 16)
  }

  /// Rounds `count` floats in place.
  static func round(_ values: UnsafeMutablePointer<Float>, count: Int) {
    for i in 0..<count { values[i] = rounded(values[i]) }
  }
}
