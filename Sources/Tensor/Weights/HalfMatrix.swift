/// A [rows, columns] row-major matrix of 16-bit floats at `base` (often inside a memory-mapped
/// checkpoint, at any alignment), and the kernels F16Weight and BF16Weight share.
///
/// The encodings and the generic kernel live in this one file on purpose: debug builds compile
/// file by file, so a generic kernel called from another file runs unspecialized and widens
/// through a call per 8 elements (measured 6x slower at m = 1 on cache-resident weights). Here
/// the entry points switch on the dtype once and call the kernel with a concrete encoding.
struct HalfMatrix: @unchecked Sendable {
  let base: UnsafeRawPointer
  let outFeatures: Int
  let inFeatures: Int
  /// `.f16` or `.bf16`.
  let dtype: StorageDType

  @inline(__always)
  func row(_ o: Int) -> UnsafeRawPointer { base + 2 &* o &* inFeatures }

  func decodeTile(
    rows: Range<Int>, columns: Range<Int>, into tile: UnsafeMutablePointer<Float>, stride: Int
  ) {
    for (i, o) in rows.enumerated() {
      let source = row(o) + 2 * columns.lowerBound
      if dtype == .bf16 {
        HalfConversion.widenBF16(source, into: tile + i * stride, count: columns.count)
      } else {
        HalfConversion.widenF16(source, into: tile + i * stride, count: columns.count)
      }
    }
  }

  func prefetchTile(rows: Range<Int>, columns: Range<Int>, into level: Prefetch.Level) {
    for o in rows {
      Prefetch.bytes(row(o) + 2 * columns.lowerBound, count: 2 * columns.count, into: level)
    }
  }

  /// y[o] = W[o, :] · x (or `+=`) for o in `rows`.
  func dotRows(
    _ rows: Range<Int>, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, accumulate: Bool
  ) {
    if dtype == .bf16 {
      dotRows(BF16Encoding.self, rows, x: x, y: y, accumulate: accumulate)
    } else {
      dotRows(F16Encoding.self, rows, x: x, y: y, accumulate: accumulate)
    }
  }

  /// m = 1: one row at a time, four accumulators (hiding the FMA latency), the activations
  /// re-read from L1. A single sequential stream per thread measured ~35% faster than four
  /// interleaved row streams sharing each activation load (128 MiB of f16: 12.4 ms against
  /// 17.2 ms; a plain widening sum over the same bytes took 11.8 ms): bound by memory bandwidth,
  /// 2 bytes of W per multiply-add.
  @inline(__always)
  private func dotRows<Encoding: HalfEncoding>(
    _: Encoding.Type, _ rows: Range<Int>, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
    accumulate: Bool
  ) {
    let n = inFeatures
    let n32 = n & ~31
    let n8 = n & ~7
    let xr = UnsafeRawPointer(x)
    for o in rows {
      let w = row(o)
      var a0 = SIMD8<Float>()
      var a1 = SIMD8<Float>()
      var a2 = SIMD8<Float>()
      var a3 = SIMD8<Float>()
      var k = 0
      while k < n32 {
        let xk = xr + 4 &* k
        a0.addProduct(Encoding.load8(w, k), xk.loadUnaligned(as: SIMD8<Float>.self))
        a1.addProduct(
          Encoding.load8(w, k &+ 8), xk.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self))
        a2.addProduct(
          Encoding.load8(w, k &+ 16), xk.loadUnaligned(fromByteOffset: 64, as: SIMD8<Float>.self))
        a3.addProduct(
          Encoding.load8(w, k &+ 24), xk.loadUnaligned(fromByteOffset: 96, as: SIMD8<Float>.self))
        k &+= 32
      }
      while k < n8 {
        a0.addProduct(Encoding.load8(w, k), (xr + 4 &* k).loadUnaligned(as: SIMD8<Float>.self))
        k &+= 8
      }
      var sum = ((a0 + a1) + (a2 + a3)).sum()
      while k < n {
        sum += Encoding.load1(w, k) * x[k]
        k &+= 1
      }
      y[o] = accumulate ? y[o] + sum : sum
    }
  }
}

/// How one 16-bit float encoding widens to f32 in registers.
private protocol HalfEncoding {
  /// Elements `index..<index + 8` of the 16-bit array at `base`, widened.
  static func load8(_ base: UnsafeRawPointer, _ index: Int) -> SIMD8<Float>
  /// Element `index` of the 16-bit array at `base`, widened.
  static func load1(_ base: UnsafeRawPointer, _ index: Int) -> Float
}

/// IEEE binary16: widened by F16C's `vcvtph2ps`.
private enum F16Encoding: HalfEncoding {
  @inline(__always)
  static func load8(_ base: UnsafeRawPointer, _ index: Int) -> SIMD8<Float> {
    SIMD8<Float>(base.loadUnaligned(fromByteOffset: 2 &* index, as: SIMD8<Float16>.self))
  }

  @inline(__always)
  static func load1(_ base: UnsafeRawPointer, _ index: Int) -> Float {
    Float(base.loadUnaligned(fromByteOffset: 2 &* index, as: Float16.self))
  }
}

/// bfloat16: the upper half of an f32, widened by a zero-extend and a 16-bit shift.
private enum BF16Encoding: HalfEncoding {
  @inline(__always)
  static func load8(_ base: UnsafeRawPointer, _ index: Int) -> SIMD8<Float> {
    let bits = base.loadUnaligned(fromByteOffset: 2 &* index, as: SIMD8<UInt16>.self)
    // Lane by lane: the stdlib's generic widening can stay an out-of-line call in multithreaded
    // whole-module builds (see Q8Weight.load8); this folds into `vpmovzxwd`.
    let wide = SIMD8<UInt32>(
      UInt32(bits[0]), UInt32(bits[1]), UInt32(bits[2]), UInt32(bits[3]), UInt32(bits[4]),
      UInt32(bits[5]), UInt32(bits[6]), UInt32(bits[7]))
    return unsafeBitCast(wide &<< 16, to: SIMD8<Float>.self)
  }

  @inline(__always)
  static func load1(_ base: UnsafeRawPointer, _ index: Int) -> Float {
    Float(bitPattern: UInt32(base.loadUnaligned(fromByteOffset: 2 &* index, as: UInt16.self)) << 16)
  }
}
