import Tensor
import Testing
import TrolleyBasics

@Suite struct HalfConversionTests {
  /// Every f16 bit pattern, stored at an odd byte offset to exercise unaligned loads.
  @Test func widenF16MatchesReferenceForAllPatterns() {
    let count = 1 << 16
    var bytes = [UInt8](repeating: 0, count: 2 * count + 1)
    for i in 0..<count {
      bytes[1 + 2 * i] = UInt8(i & 0xFF)
      bytes[2 + 2 * i] = UInt8(i >> 8)
    }
    var out = [Float](repeating: 0, count: count)
    bytes.withUnsafeBytes { raw in
      out.withUnsafeMutableBufferPointer {
        HalfConversion.widenF16(raw.baseAddress! + 1, into: $0.baseAddress!, count: count)
      }
    }
    var mismatches = 0
    for i in 0..<count
    where out[i].bitPattern != HalfConversion.f16ToFloatReference(UInt16(i)).bitPattern {
      mismatches += 1
    }
    #expect(mismatches == 0)
    #expect(out[0x3C00] == 1)
    #expect(out[0xC000] == -2)
    #expect(out[0x0001] == 0x1p-24)
    #expect(out[0x7C00] == .infinity)
    #expect(out[0x7E00].isNaN)
  }

  @Test func widenBF16IsExactForAllPatterns() {
    let count = 1 << 16
    let bits = (0..<count).map { UInt16($0) }
    var out = [Float](repeating: 0, count: count)
    bits.withUnsafeBytes { raw in
      out.withUnsafeMutableBufferPointer {
        HalfConversion.widenBF16(raw.baseAddress!, into: $0.baseAddress!, count: count)
      }
    }
    var mismatches = 0
    for i in 0..<count where out[i].bitPattern != UInt32(i) << 16 { mismatches += 1 }
    #expect(mismatches == 0)
  }

  /// Floats that probe rounding: random values, exact ties, overflow, subnormals, specials.
  static func probeFloats() -> [Float] {
    var values: [Float] = [
      0, -0, 1, -1, 65504, 65519.99, 65520, 1e10, -1e10, .infinity, -.infinity, .nan,
      0x1p-24, 0x1p-25, 0x1.8p-25, 0x1p-26, 0x1.ffcp-15, 0x1p-14, 6e-8, .leastNonzeroMagnitude,
      1 + 0x1p-11, 1 + 0x1p-11 + 0x1p-20, 1 + 3 * 0x1p-11, 1 + 0x1p-8, 1 + 3 * 0x1p-8,
      Float(bitPattern: 0x3F80_8000), Float(bitPattern: 0x3F81_8000),
      Float(bitPattern: 0x7F7F_FFFF),
    ]
    var generator = SplitMix64(seed: 42)
    for _ in 0..<20000 {
      let bits = UInt32(truncatingIfNeeded: generator.next())
      values.append(Float(bitPattern: bits))
      values.append(Float(bitPattern: (bits & 0x807F_FFFF) | (UInt32(100 + bits % 50) << 23)))
    }
    return values
  }

  @Test func narrowToF16RoundsToNearestEven() {
    let values = Self.probeFloats()
    var out = [UInt16](repeating: 0, count: values.count)
    values.withUnsafeBufferPointer { v in
      out.withUnsafeMutableBytes {
        HalfConversion.narrowToF16(v.baseAddress!, into: $0.baseAddress!, count: v.count)
      }
    }
    var mismatches: [Float] = []
    for (i, value) in values.enumerated() {
      let expected = HalfConversion.floatToF16Reference(value)
      let same =
        value.isNaN ? (out[i] & 0x7C00 == 0x7C00 && out[i] & 0x3FF != 0) : out[i] == expected
      if !same { mismatches.append(value) }
    }
    #expect(mismatches.isEmpty, "first mismatches: \(mismatches.prefix(5))")
    // Ties: 1 + 2^-11 lies halfway between 1 and 1 + 2^-10 and goes to the even one, 1.
    #expect(HalfConversion.floatToF16Reference(1 + 0x1p-11) == 0x3C00)
    #expect(HalfConversion.floatToF16Reference(1 + 3 * 0x1p-11) == 0x3C02)
    #expect(HalfConversion.floatToF16Reference(65520) == 0x7C00)
  }

  @Test func narrowToBF16RoundsToNearestEven() {
    let values = Self.probeFloats()
    var out = [UInt16](repeating: 0, count: values.count + 1)
    values.withUnsafeBufferPointer { v in
      out.withUnsafeMutableBytes {
        HalfConversion.narrowToBF16(v.baseAddress!, into: $0.baseAddress! + 1, count: v.count)
      }
    }
    var mismatches = 0
    out.withUnsafeBytes { raw in
      for (i, value) in values.enumerated() {
        let got = raw.loadUnaligned(fromByteOffset: 1 + 2 * i, as: UInt16.self)
        if got != HalfConversion.floatToBF16Reference(value) { mismatches += 1 }
        if value.isNaN && !Float(bitPattern: UInt32(got) << 16).isNaN { mismatches += 1 }
      }
    }
    #expect(mismatches == 0)
    #expect(HalfConversion.floatToBF16Reference(Float(bitPattern: 0x3F80_8000)) == 0x3F80)
    #expect(HalfConversion.floatToBF16Reference(Float(bitPattern: 0x3F81_8000)) == 0x3F82)
    #expect(HalfConversion.floatToBF16Reference(Float(bitPattern: 0x7FC0_0001)) & 0x7FC0 == 0x7FC0)
  }

  /// Narrowing then widening gives back every finite f16 value exactly.
  @Test func f16RoundTripsThroughF32() {
    let finite = (0..<(1 << 16)).map { UInt16($0) }.filter { $0 & 0x7C00 != 0x7C00 }
    let floats = finite.map { HalfConversion.f16ToFloatReference($0) }
    var back = [UInt16](repeating: 0, count: floats.count)
    floats.withUnsafeBufferPointer { f in
      back.withUnsafeMutableBytes {
        HalfConversion.narrowToF16(f.baseAddress!, into: $0.baseAddress!, count: f.count)
      }
    }
    #expect(back == finite)
  }

  @Test(arguments: StorageDType.allCases)
  func floatsWidensEveryDType(dtype: StorageDType) {
    let values: [Float] = (0..<37).map { Float($0) * 0.25 - 3 }  // exact in all three dtypes
    var bytes = [UInt8](repeating: 0, count: values.count * dtype.byteWidth)
    bytes.withUnsafeMutableBytes { raw in
      values.withUnsafeBufferPointer { v in
        switch dtype {
        case .f32: raw.copyMemory(from: UnsafeRawBufferPointer(v))
        case .f16:
          HalfConversion.narrowToF16(v.baseAddress!, into: raw.baseAddress!, count: v.count)
        case .bf16:
          HalfConversion.narrowToBF16(v.baseAddress!, into: raw.baseAddress!, count: v.count)
        }
      }
    }
    let widened = bytes.withUnsafeBytes {
      HalfConversion.floats(
        RawTensorData(dtype: dtype, shape: [values.count], bytes: $0, owner: nil))
    }
    #expect(widened == values)
  }
}
