/// Exact conversions between f32 and the two 16-bit float formats of the checkpoints.
///
/// Widening (f16/bf16 -> f32) is exact for every bit pattern, subnormals, infinities and NaNs
/// included. Narrowing rounds to nearest, ties to even, as PyTorch's `.to(torch.float16)` and
/// `.to(torch.bfloat16)` do.
public enum HalfPrecision {
  /// All 65536 f16 values widened to f32, so bulk conversion is one table load per element.
  private static let f16Table: [Float] = (0...UInt16.max).map { widenF16Slow($0) }

  /// The f32 value of an IEEE binary16 bit pattern.
  @inline(__always)
  public static func float(fromF16 bits: UInt16) -> Float {
    f16Table.withUnsafeBufferPointer { $0[Int(bits)] }
  }

  /// The f32 value of a bfloat16 bit pattern (the upper half of an f32).
  @inline(__always)
  public static func float(fromBF16 bits: UInt16) -> Float {
    Float(bitPattern: UInt32(bits) << 16)
  }

  /// The nearest binary16 bit pattern to `value` (ties to even; overflow gives infinity).
  public static func f16Bits(_ value: Float) -> UInt16 {
    let x = value.bitPattern
    let sign = UInt16(truncatingIfNeeded: (x >> 16) & 0x8000)
    let magnitude = x & 0x7fff_ffff
    if magnitude >= 0x7f80_0000 {
      // Infinity stays infinity; NaN stays a quiet NaN.
      return sign | 0x7c00 | (magnitude > 0x7f80_0000 ? 0x0200 : 0)
    }
    if magnitude >= 0x477f_f000 { return sign | 0x7c00 }  // >= 65520 rounds past 65504
    if magnitude < 0x3880_0000 {
      // Below 2^-14 the result is subnormal: a multiple of 2^-24, found by exact scaling.
      let scaled = Float(bitPattern: magnitude) * 0x1p24
      return sign | UInt16(scaled.rounded(.toNearestOrEven))
    }
    let rebiased = magnitude &- 0x3800_0000  // exponent bias 127 -> 15
    let roundBit = (rebiased >> 13) & 1
    return sign | UInt16(truncatingIfNeeded: (rebiased &+ 0x0fff &+ roundBit) >> 13)
  }

  /// The nearest bfloat16 bit pattern to `value` (ties to even; NaN stays NaN).
  public static func bf16Bits(_ value: Float) -> UInt16 {
    let x = value.bitPattern
    if value.isNaN { return UInt16(truncatingIfNeeded: x >> 16) | 0x0040 }
    let roundBit = (x >> 16) & 1
    return UInt16(truncatingIfNeeded: (x &+ 0x7fff &+ roundBit) >> 16)
  }

  private static func widenF16Slow(_ bits: UInt16) -> Float {
    let sign: UInt32 = UInt32(bits & 0x8000) << 16
    let exponent = UInt32((bits >> 10) & 0x1f)
    let mantissa = UInt32(bits & 0x03ff)
    switch exponent {
    case 0x1f:
      return Float(bitPattern: sign | 0x7f80_0000 | (mantissa << 13))
    case 0:
      // Zero or subnormal: mantissa * 2^-24, exact in f32.
      let magnitude = Float(mantissa) * 0x1p-24
      return sign != 0 ? -magnitude : magnitude
    default:
      return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
    }
  }
}
