/// How one 16-bit float encoding widens to f32 in registers; lets F16Weight and BF16Weight share
/// one set of kernels (`HalfMatrix`), specialized per encoding by the optimizer.
protocol HalfEncoding {
  static var dtype: StorageDType { get }
  /// Elements `index..<index + 8` of the 16-bit array at `base`, widened.
  static func load8(_ base: UnsafeRawPointer, _ index: Int) -> SIMD8<Float>
  /// Element `index` of the 16-bit array at `base`, widened.
  static func load1(_ base: UnsafeRawPointer, _ index: Int) -> Float
  /// Widens `count` elements starting at `base` into `destination`.
  static func widen(
    _ base: UnsafeRawPointer, into destination: UnsafeMutablePointer<Float>, count: Int)
}

/// IEEE binary16: widened by F16C's `vcvtph2ps`.
enum F16Encoding: HalfEncoding {
  static var dtype: StorageDType { .f16 }

  @inline(__always)
  static func load8(_ base: UnsafeRawPointer, _ index: Int) -> SIMD8<Float> {
    SIMD8<Float>(base.loadUnaligned(fromByteOffset: 2 * index, as: SIMD8<Float16>.self))
  }

  @inline(__always)
  static func load1(_ base: UnsafeRawPointer, _ index: Int) -> Float {
    Float(base.loadUnaligned(fromByteOffset: 2 * index, as: Float16.self))
  }

  static func widen(
    _ base: UnsafeRawPointer, into destination: UnsafeMutablePointer<Float>, count: Int
  ) {
    HalfConversion.widenF16(base, into: destination, count: count)
  }
}

/// bfloat16: the upper half of an f32, widened by a zero-extend and a 16-bit shift.
enum BF16Encoding: HalfEncoding {
  static var dtype: StorageDType { .bf16 }

  @inline(__always)
  static func load8(_ base: UnsafeRawPointer, _ index: Int) -> SIMD8<Float> {
    let bits = base.loadUnaligned(fromByteOffset: 2 * index, as: SIMD8<UInt16>.self)
    return unsafeBitCast(SIMD8<UInt32>(truncatingIfNeeded: bits) &<< 16, to: SIMD8<Float>.self)
  }

  @inline(__always)
  static func load1(_ base: UnsafeRawPointer, _ index: Int) -> Float {
    Float(bitPattern: UInt32(base.loadUnaligned(fromByteOffset: 2 * index, as: UInt16.self)) << 16)
  }

  static func widen(
    _ base: UnsafeRawPointer, into destination: UnsafeMutablePointer<Float>, count: Int
  ) {
    HalfConversion.widenBF16(base, into: destination, count: count)
  }
}
