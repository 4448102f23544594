/// Bulk conversion between 16-bit floats (IEEE f16 and bfloat16) and f32.
///
/// Sources and destinations of 16-bit data are raw pointers because checkpoint tensors sit at
/// arbitrary byte offsets in a memory-mapped file: every 16-bit load and store is unaligned-safe.
/// Data is little-endian, as in safetensors and PyTorch files. Widening is exact; narrowing rounds
/// to nearest, ties to even, and keeps NaN a (quiet) NaN. The vector loops compile to F16C
/// `vcvtph2ps`/`vcvtps2ph` and AVX2 shifts on x86-64; the scalar `…Reference` functions are the
/// naive bit-level definitions the tests check them against.
public enum HalfConversion {
  /// Widens `count` IEEE f16 values at `source` to f32.
  ///
  /// - Parameters:
  ///   - source: `2 * count` bytes, little-endian f16, any alignment.
  ///   - destination: room for `count` floats.
  ///   - count: number of elements.
  public static func widenF16(
    _ source: UnsafeRawPointer, into destination: UnsafeMutablePointer<Float>, count: Int
  ) {
    var i = 0
    while i + 16 <= count {
      let a = source.loadUnaligned(fromByteOffset: 2 * i, as: SIMD8<Float16>.self)
      let b = source.loadUnaligned(fromByteOffset: 2 * i + 16, as: SIMD8<Float16>.self)
      UnsafeMutableRawPointer(destination + i).storeBytes(
        of: SIMD8<Float>(a), as: SIMD8<Float>.self)
      UnsafeMutableRawPointer(destination + i + 8).storeBytes(
        of: SIMD8<Float>(b), as: SIMD8<Float>.self)
      i += 16
    }
    while i < count {
      destination[i] = Float(source.loadUnaligned(fromByteOffset: 2 * i, as: Float16.self))
      i += 1
    }
  }

  /// Widens `count` bfloat16 values at `source` to f32 (exact: the 16 bits become the high half).
  ///
  /// - Parameters:
  ///   - source: `2 * count` bytes, little-endian bf16, any alignment.
  ///   - destination: room for `count` floats.
  ///   - count: number of elements.
  public static func widenBF16(
    _ source: UnsafeRawPointer, into destination: UnsafeMutablePointer<Float>, count: Int
  ) {
    var i = 0
    while i + 16 <= count {
      let a = source.loadUnaligned(fromByteOffset: 2 * i, as: SIMD16<UInt16>.self)
      let wide = SIMD16<UInt32>(truncatingIfNeeded: a) &<< 16
      UnsafeMutableRawPointer(destination + i).storeBytes(
        of: unsafeBitCast(wide, to: SIMD16<Float>.self), as: SIMD16<Float>.self)
      i += 16
    }
    while i < count {
      let bits = source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)
      destination[i] = Float(bitPattern: UInt32(bits) << 16)
      i += 1
    }
  }

  /// Narrows `count` floats to IEEE f16, rounding to nearest even (overflow becomes ±infinity).
  ///
  /// - Parameters:
  ///   - source: `count` floats.
  ///   - destination: room for `2 * count` bytes, any alignment.
  ///   - count: number of elements.
  public static func narrowToF16(
    _ source: UnsafePointer<Float>, into destination: UnsafeMutableRawPointer, count: Int
  ) {
    narrow(source, into: destination, count: count) { v in
      unsafeBitCast(SIMD8<Float16>(v), to: SIMD8<UInt16>.self)
    } scalar: { value in
      Float16(value).bitPattern
    }
  }

  /// Narrows `count` floats to bfloat16, rounding to nearest even; NaN stays a quiet NaN.
  ///
  /// - Parameters:
  ///   - source: `count` floats.
  ///   - destination: room for `2 * count` bytes, any alignment.
  ///   - count: number of elements.
  public static func narrowToBF16(
    _ source: UnsafePointer<Float>, into destination: UnsafeMutableRawPointer, count: Int
  ) {
    narrow(source, into: destination, count: count) { v in
      let bits = unsafeBitCast(v, to: SIMD8<UInt32>.self)
      let lsb = (bits &>> 16) & 1
      var rounded = (bits &+ 0x7FFF &+ lsb) &>> 16
      let nan = (bits & 0x7FFF_FFFF) .> 0x7F80_0000
      rounded.replace(with: (bits &>> 16) | 0x40, where: nan)
      return SIMD8<UInt16>(truncatingIfNeeded: rounded)
    } scalar: {
      floatToBF16Reference($0)
    }
  }

  /// Narrows `count` floats to 16-bit patterns: eight at a time through `vector`, the remainder
  /// through `scalar`.
  @inline(__always)
  private static func narrow(
    _ source: UnsafePointer<Float>, into destination: UnsafeMutableRawPointer, count: Int,
    vector: (SIMD8<Float>) -> SIMD8<UInt16>, scalar: (Float) -> UInt16
  ) {
    var i = 0
    while i + 8 <= count {
      let v = UnsafeRawPointer(source + i).loadUnaligned(as: SIMD8<Float>.self)
      destination.storeBytes(of: vector(v), toByteOffset: 2 * i, as: SIMD8<UInt16>.self)
      i += 8
    }
    while i < count {
      destination.storeBytes(of: scalar(source[i]), toByteOffset: 2 * i, as: UInt16.self)
      i += 1
    }
  }

  /// Widens a tensor of any storage dtype to f32.
  ///
  /// - Parameters:
  ///   - raw: the tensor's bytes (f32, f16 or bf16).
  ///   - destination: room for `raw.count` floats.
  public static func widen(_ raw: RawTensorData, into destination: UnsafeMutablePointer<Float>) {
    guard let base = raw.bytes.baseAddress else { return }
    switch raw.dtype {
    case .f32:
      UnsafeMutableRawPointer(destination).copyMemory(from: base, byteCount: raw.count * 4)
    case .f16: widenF16(base, into: destination, count: raw.count)
    case .bf16: widenBF16(base, into: destination, count: raw.count)
    }
  }

  /// A tensor of any storage dtype, widened to f32 in a new array.
  ///
  /// - Parameter raw: the tensor's bytes (f32, f16 or bf16).
  /// - Returns: `raw.count` floats in the tensor's order.
  public static func floats(_ raw: RawTensorData) -> [Float] {
    [Float](unsafeUninitializedCapacity: raw.count) { buffer, initialized in
      if let base = buffer.baseAddress { widen(raw, into: base) }
      initialized = raw.count
    }
  }

  // MARK: - Naive references (bit-level definitions; the vector paths are tested against them)

  /// The IEEE f16 value with bit pattern `bits`, as f32 (exact), computed bit by bit.
  public static func f16ToFloatReference(_ bits: UInt16) -> Float {
    let sign = UInt32(bits & 0x8000) << 16
    let exponent = Int((bits >> 10) & 0x1F)
    let mantissa = UInt32(bits & 0x3FF)
    if exponent == 0x1F {
      // Infinity, or NaN made quiet with its payload kept, as the hardware conversion does.
      return Float(
        bitPattern: sign | 0x7F80_0000 | (mantissa << 13) | (mantissa == 0 ? 0 : 0x40_0000))
    }
    if exponent == 0 {
      // Zero or subnormal: mantissa · 2^-24, exactly representable in f32.
      let magnitude = Float(mantissa) * 0x1p-24
      return sign == 0 ? magnitude : -magnitude
    }
    return Float(bitPattern: sign | (UInt32(exponent - 15 + 127) << 23) | (mantissa << 13))
  }

  /// `value` rounded to the nearest IEEE f16 (ties to even), computed bit by bit.
  public static func floatToF16Reference(_ value: Float) -> UInt16 {
    let bits = value.bitPattern
    let sign = UInt16((bits >> 16) & 0x8000)
    let exponent = Int((bits >> 23) & 0xFF)
    let mantissa = bits & 0x7F_FFFF
    if exponent == 0xFF {
      return sign | 0x7C00 | (mantissa == 0 ? 0 : UInt16(0x200 | (mantissa >> 13)))
    }
    let unbiased = exponent - 127
    if unbiased > 15 { return sign | 0x7C00 }
    // Significand with its implicit bit, and how far it must shift right to land in f16's field.
    let significand = exponent == 0 ? mantissa : (mantissa | 0x80_0000)
    let shift = unbiased >= -14 ? 13 : 13 + (-14 - unbiased)
    if shift >= 25 { return sign }  // Rounds to zero even at the halfway point.
    let kept = significand >> UInt32(shift)
    let remainder = significand & ((1 << UInt32(shift)) - 1)
    let half = UInt32(1) << UInt32(shift - 1)
    var result = kept
    if remainder > half || (remainder == half && (kept & 1) == 1) { result += 1 }
    if unbiased >= -14 {
      // Normal: add the exponent; a carry out of the mantissa correctly bumps it (even to inf).
      let biased = UInt32(unbiased + 15)
      return sign | UInt16((biased << 10) + (result - 0x400))
    }
    return sign | UInt16(result)  // Subnormal (a carry into bit 10 correctly makes it normal).
  }

  /// `value` rounded to the nearest bfloat16 (ties to even; NaN stays a quiet NaN).
  public static func floatToBF16Reference(_ value: Float) -> UInt16 {
    let bits = value.bitPattern
    if value.isNaN { return UInt16(bits >> 16) | 0x40 }
    return UInt16((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16)
  }
}
