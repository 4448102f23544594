internal import CProcessor

/// The AVX-512 twins of Tensor's block-quantized m = 1 kernels (`Q4Weight.dotRows`,
/// `Q8Weight.dotRows`): the same in-place trick, one 64-byte load per 16 lanes instead of 32
/// bytes per 8.
///
/// Both formats store blocks of 32 weights with an f16 scale (and for q4 an f16 minimum), row
/// after row; see Q4Weight and Q8Weight for the layouts. x is permuted once per call into the
/// caller's scratch so that every weight is multiplied by its own activation without any byte
/// shuffle, and scaled by the power of two that undoes the weight's position in its lane: each
/// product equals x · q exactly (for |x| ≥ 2^-102), so the results are exact against the
/// dequantized matrix up to summation order, as the AVX2 kernels are (not bit-identical to them:
/// the summation order differs).
public enum QuantizedRowKernels512 {
  /// How far ahead of the weights being multiplied the kernels ask for bytes (into L2), as the
  /// AVX2 kernels do: the hardware prefetchers alone fell behind on 8192-wide rows.
  static let prefetchDistance = 4096

  // MARK: q4

  /// Floats of scratch `q4DotRows` needs for rows of `inFeatures`.
  public static func q4ScratchFloats(inFeatures: Int) -> Int { (inFeatures / 32) &* 33 &+ 32 }

  /// Bytes `q4DotRows` may read past the last row's quants (the quads' second, offset load).
  public static let q4QuantsPadding = 64

  /// y[o] = W[o, :] · x (or `+=` when `accumulate`) for each o in `rows`, W a q4 weight.
  ///
  /// Four adjacent blocks (64 bytes) load as sixteen 32-bit lanes, lanes 4b ..< 4b + 4 holding
  /// the bytes of block b, and again from 2 bytes further on, so that both halves of every lane
  /// sit in the low 16 bits of one of the two loads: nibble n of lane i is one element (see
  /// `q4Permute`), read in place at bit 4(n mod 4) as q · 16^(n mod 4) (see `nibbles`). 16
  /// weights cost one `vpternlogd`, one subtraction and one FMA. Σ x·w = s · Σ x·q + m · Σ x per
  /// block: the four blocks' scales multiply their quarters of the vector, and the minimums'
  /// term is one dot product per row against the blocks' Σ x, computed once per call.
  ///
  /// - Parameters:
  ///   - quants: packed nibbles, `blocksPerRow * 16` bytes per row, readable for
  ///     `q4QuantsPadding` bytes more; scales and minimums: f16, `blocksPerRow` per row.
  ///   - scratch: at least `q4ScratchFloats(inFeatures:)` floats, 64-byte aligned.
  public static func q4DotRows(
    _ rows: Range<Int>, quants: UnsafeRawPointer, scales: UnsafeRawPointer,
    minimums: UnsafeRawPointer, blocksPerRow: Int, inFeatures: Int, x: UnsafePointer<Float>,
    y: UnsafeMutablePointer<Float>, accumulate: Bool, scratch: UnsafeMutablePointer<Float>
  ) {
    let fullBlocks = inFeatures / 32
    let quads = fullBlocks / 4
    // Aligned first: the permuted activations, then the two accumulators.
    let permuted = scratch
    let sums = UnsafeMutableRawPointer(scratch + 32 &* fullBlocks)
    let xSums = scratch + (32 &* fullBlocks &+ 32)
    for b in 0..<fullBlocks { xSums[b] = blockSum(x + 32 &* b) }
    q4Permute(x, into: permuted, quads: quads)
    let xp = UnsafeRawPointer(permuted)
    for o in rows {
      let first = o &* blocksPerRow
      let q = quants + first &* 16
      let s = scales + first &* 2
      sums.storeBytes(of: SIMD16<Float>(), as: SIMD16<Float>.self)
      sums.storeBytes(of: SIMD16<Float>(), toByteOffset: 64, as: SIMD16<Float>.self)
      var p = 0
      while p &+ 4 <= quads {
        q4FourQuads(q + 64 &* p, s + 8 &* p, xp + 512 &* p, sums)
        p &+= 4
      }
      while p < quads {
        q4OneQuad(q + 64 &* p, s + 8 &* p, xp + 512 &* p, sums)
        p &+= 1
      }
      var sum = accumulatorsSum(sums) + minimumsDot(minimums + first &* 2, xSums, fullBlocks)
      var b = 4 &* quads
      while b < fullBlocks {  // up to three full blocks after the last quad
        sum += q4BlockDot(q + 16 &* b, s + 2 &* b, x + 32 &* b)
        b &+= 1
      }
      if fullBlocks &* 32 < inFeatures {
        sum += q4PartialBlockDot(
          q + 16 &* fullBlocks, s + 2 &* fullBlocks, minimums + (first &+ fullBlocks) &* 2,
          x + 32 &* fullBlocks, count: inFeatures &- 32 &* fullBlocks)
      }
      y[o] = accumulate ? y[o] + sum : sum
    }
  }

  /// x′[128Q + 16n + i] = x[128Q + 32⌊i/4⌋ + 4(i mod 4) + ⌊n/2⌋ + 16(n mod 2)] · 16^-(n mod 4):
  /// the element that nibble n of lane i of quad Q holds (byte j of a block holds elements j and
  /// j + 16), scaled by the inverse of the power of 16 it is read at.
  private static func q4Permute(
    _ x: UnsafePointer<Float>, into permuted: UnsafeMutablePointer<Float>, quads: Int
  ) {
    for p in 0..<quads {
      let source = x + 128 &* p
      let target = permuted + 128 &* p
      for n in 0..<8 {
        let factor = Float(sign: .plus, exponent: -4 * (n % 4), significand: 1)
        for i in 0..<16 {
          let k = 32 &* (i / 4) &+ 4 &* (i % 4) &+ n / 2 &+ 16 &* (n % 2)
          target[16 &* n &+ i] = source[k] * factor
        }
      }
    }
  }

  // The quad steps run in functions of their own, on purpose. Swift's SIMD16 float arithmetic
  // reaches LLVM lane by lane and relies on the SLP vectorizer to become vector code again;
  // inside a loop (accumulators in registers or in memory alike) SLP rebuilt it as a mix of
  // scalar, 4-, 8- and 16-lane pieces with shuffles between them, while the same steps as a
  // straight-line function compile to pure ZMM code. A call per four quads (512 weights) costs
  // little.

  /// Four quads from `q`, `s` and `xb` on: quads 0 and 2 into the accumulator at `sums`, 1 and
  /// 3 into the one 64 bytes on.
  @inline(never)
  private static func q4FourQuads(
    _ q: UnsafeRawPointer, _ s: UnsafeRawPointer, _ xb: UnsafeRawPointer,
    _ sums: UnsafeMutableRawPointer
  ) {
    trolley_prefetch(q + prefetchDistance)
    trolley_prefetch(q + (prefetchDistance + 64))
    trolley_prefetch(q + (prefetchDistance + 128))
    trolley_prefetch(q + (prefetchDistance + 192))
    var a0 = sums.load(as: SIMD16<Float>.self)
    var a1 = sums.load(fromByteOffset: 64, as: SIMD16<Float>.self)
    q4QuadStep(q, s, xb, &a0)
    q4QuadStep(q + 64, s + 8, xb + 512, &a1)
    q4QuadStep(q + 128, s + 16, xb + 1024, &a0)
    q4QuadStep(q + 192, s + 24, xb + 1536, &a1)
    sums.storeBytes(of: a0, as: SIMD16<Float>.self)
    sums.storeBytes(of: a1, toByteOffset: 64, as: SIMD16<Float>.self)
  }

  /// One quad into the accumulator at `sums`.
  @inline(never)
  private static func q4OneQuad(
    _ q: UnsafeRawPointer, _ s: UnsafeRawPointer, _ xb: UnsafeRawPointer,
    _ sums: UnsafeMutableRawPointer
  ) {
    var a0 = sums.load(as: SIMD16<Float>.self)
    q4QuadStep(q, s, xb, &a0)
    sums.storeBytes(of: a0, as: SIMD16<Float>.self)
  }

  /// acc += (s₀ ×4, s₁ ×4, s₂ ×4, s₃ ×4) ⊙ Σₙ q⁽ⁿ⁾ ⊙ x′⁽ⁿ⁾ for the four blocks whose quants are at
  /// `q`, scales at `s` and permuted activations at `xb`.
  @inline(__always)
  private static func q4QuadStep(
    _ q: UnsafeRawPointer, _ s: UnsafeRawPointer, _ xb: UnsafeRawPointer,
    _ acc: inout SIMD16<Float>
  ) {
    let low = bits(q.loadUnaligned(as: SIMD16<Int32>.self))
    let high = bits(q.loadUnaligned(fromByteOffset: 2, as: SIMD16<Int32>.self))
    var d0 = nibbles(low, 0xF) * xb.loadUnaligned(as: SIMD16<Float>.self)
    var d1 = nibbles(low, 0xF0) * xb.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)
    d0.addProduct(
      nibbles(low, 0xF00), xb.loadUnaligned(fromByteOffset: 128, as: SIMD16<Float>.self))
    d1.addProduct(
      nibbles(low, 0xF000), xb.loadUnaligned(fromByteOffset: 192, as: SIMD16<Float>.self))
    d0.addProduct(
      nibbles(high, 0xF), xb.loadUnaligned(fromByteOffset: 256, as: SIMD16<Float>.self))
    d1.addProduct(
      nibbles(high, 0xF0), xb.loadUnaligned(fromByteOffset: 320, as: SIMD16<Float>.self))
    d0.addProduct(
      nibbles(high, 0xF00), xb.loadUnaligned(fromByteOffset: 384, as: SIMD16<Float>.self))
    d1.addProduct(
      nibbles(high, 0xF000), xb.loadUnaligned(fromByteOffset: 448, as: SIMD16<Float>.self))
    acc.addProduct(d0 + d1, quarters(s))
  }

  /// (w & mask) as floats, exactly, for a mask within bits 0 ..< 16: OR-ed with the exponent of
  /// 2^23, the masked bits read as the float 2^23 + (w & mask), and subtracting 2^23 leaves
  /// them exactly. As cheap as a mask and an int-to-float conversion (the mask and the OR fuse
  /// into one `vpternlogd`); the conversion was no option, LLVM turned it into a lane-by-lane
  /// unsigned one once it proved the masked lanes non-negative.
  @inline(__always)
  private static func nibbles(_ w: Bits, _ mask: Int32) -> SIMD16<Float> {
    let biased = (w .& bits(SIMD16(repeating: mask))) .| bits(SIMD16(repeating: 0x4B00_0000))
    return unsafeBitCast(biased, to: SIMD16<Float>.self) - 0x1p23
  }

  /// The four f16 scales at `s`, each repeated over four lanes.
  @inline(__always)
  private static func quarters(_ s: UnsafeRawPointer) -> SIMD16<Float> {
    let h = s.loadUnaligned(as: SIMD4<Float16>.self)
    let f = SIMD4<Float>(Float(h[0]), Float(h[1]), Float(h[2]), Float(h[3]))
    return SIMD16(
      f[0], f[0], f[0], f[0], f[1], f[1], f[1], f[1], f[2], f[2], f[2], f[2], f[3], f[3], f[3],
      f[3])
  }

  /// s · Σ x·q over one full block in natural order (its minimum's term is in `minimumsDot`): a
  /// block left over after the last quad.
  private static func q4BlockDot(
    _ q: UnsafeRawPointer, _ s: UnsafeRawPointer, _ xb: UnsafePointer<Float>
  ) -> Float {
    let bytes = q.loadUnaligned(as: SIMD16<UInt8>.self)
    let xr = UnsafeRawPointer(xb)
    var d = floats(bytes & 0x0F) * xr.loadUnaligned(as: SIMD16<Float>.self)
    d.addProduct(floats(bytes &>> 4), xr.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self))
    return d.sum() * Float(s.loadUnaligned(as: Float16.self))
  }

  /// The last, partial block's contribution (`count` < 32 elements), w = q · s + m as in the
  /// dequantized matrix.
  private static func q4PartialBlockDot(
    _ q: UnsafeRawPointer, _ s: UnsafeRawPointer, _ m: UnsafeRawPointer,
    _ x: UnsafePointer<Float>, count: Int
  ) -> Float {
    let scale = Float(s.loadUnaligned(as: Float16.self))
    let minimum = Float(m.loadUnaligned(as: Float16.self))
    var sum: Float = 0
    for j in 0..<count {
      let byte = q.load(fromByteOffset: j & 15, as: UInt8.self)
      let quant = Float(j < 16 ? byte & 0x0F : byte >> 4)
      sum += x[j] * (quant * scale + minimum)
    }
    return sum
  }

  /// Σ_b m_b · (Σ x over block b) for the `blocks` full blocks whose minimums start at `m`.
  @inline(__always)
  private static func minimumsDot(
    _ m: UnsafeRawPointer, _ xSums: UnsafePointer<Float>, _ blocks: Int
  ) -> Float {
    let sums = UnsafeRawPointer(xSums)
    var acc = SIMD16<Float>()
    var b = 0
    while b &+ 16 <= blocks {
      acc.addProduct(
        floats(m.loadUnaligned(fromByteOffset: 2 &* b, as: SIMD16<Float16>.self)),
        sums.loadUnaligned(fromByteOffset: 4 &* b, as: SIMD16<Float>.self))
      b &+= 16
    }
    var sum = acc.sum()
    while b < blocks {
      sum += Float(m.loadUnaligned(fromByteOffset: 2 &* b, as: Float16.self)) * xSums[b]
      b &+= 1
    }
    return sum
  }

  /// Σ x over the 32 floats at `x`.
  @inline(__always)
  private static func blockSum(_ x: UnsafePointer<Float>) -> Float {
    let xr = UnsafeRawPointer(x)
    return
      (xr.loadUnaligned(as: SIMD16<Float>.self)
      + xr.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)).sum()
  }

  // MARK: q8

  /// Floats of scratch `q8DotRows` needs for rows of `inFeatures`.
  public static func q8ScratchFloats(inFeatures: Int) -> Int { (inFeatures / 32) &* 32 &+ 32 }

  /// y[o] = W[o, :] · x (or `+=` when `accumulate`) for each o in `rows`, W a q8 weight.
  ///
  /// Two adjacent blocks (64 bytes) load as sixteen 32-bit lanes, lanes 8b ..< 8b + 8 holding
  /// block b, lane i its elements 4(i mod 8) ..< 4(i mod 8) + 4. Byte n moves to the top of its
  /// lane by a multiplication by 2^(24 − 8n) (a shift) and a mask and reads as q · 2^24 exactly,
  /// against x′[64P + 16n + i] = x[64P + 32⌊i/8⌋ + 4(i mod 8) + n] · 2^-24.
  ///
  /// - Parameters:
  ///   - quants: `blocksPerRow * 32` bytes per row; scales: f16, `blocksPerRow` per row.
  ///   - scratch: at least `q8ScratchFloats(inFeatures:)` floats, 64-byte aligned.
  public static func q8DotRows(
    _ rows: Range<Int>, quants: UnsafeRawPointer, scales: UnsafeRawPointer, blocksPerRow: Int,
    inFeatures: Int, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, accumulate: Bool,
    scratch: UnsafeMutablePointer<Float>
  ) {
    let fullBlocks = inFeatures / 32
    let pairs = fullBlocks / 2
    q8Permute(x, into: scratch, pairs: pairs)
    let xp = UnsafeRawPointer(scratch)
    let sums = UnsafeMutableRawPointer(scratch + 32 &* fullBlocks)
    for o in rows {
      let q = quants + o &* blocksPerRow &* 32
      let s = scales + o &* blocksPerRow &* 2
      sums.storeBytes(of: SIMD16<Float>(), as: SIMD16<Float>.self)
      sums.storeBytes(of: SIMD16<Float>(), toByteOffset: 64, as: SIMD16<Float>.self)
      var p = 0
      while p &+ 4 <= pairs {
        q8FourPairs(q + 64 &* p, s + 4 &* p, xp + 256 &* p, sums)
        p &+= 4
      }
      while p < pairs {
        q8OnePair(q + 64 &* p, s + 4 &* p, xp + 256 &* p, sums)
        p &+= 1
      }
      var sum = accumulatorsSum(sums)
      if pairs &* 2 < fullBlocks {  // an odd full block after the last pair
        let b = fullBlocks &- 1
        sum += q8Dot(q + 32 &* b, x + 32 &* b, count: 32) * half(s + 2 &* b)
      }
      if fullBlocks &* 32 < inFeatures {
        sum +=
          q8Dot(q + 32 &* fullBlocks, x + 32 &* fullBlocks, count: inFeatures &- 32 &* fullBlocks)
          * half(s + 2 &* fullBlocks)
      }
      y[o] = accumulate ? y[o] + sum : sum
    }
  }

  /// x′[64P + 16n + i] = x[64P + 32⌊i/8⌋ + 4(i mod 8) + n] · 2^-24 for every pair of full blocks.
  private static func q8Permute(
    _ x: UnsafePointer<Float>, into permuted: UnsafeMutablePointer<Float>, pairs: Int
  ) {
    for p in 0..<pairs {
      let source = x + 64 &* p
      let target = permuted + 64 &* p
      for n in 0..<4 {
        for i in 0..<16 {
          target[16 &* n &+ i] = source[32 &* (i / 8) &+ 4 &* (i % 8) &+ n] * 0x1p-24
        }
      }
    }
  }

  /// Four pairs of blocks from `q`, `s` and `xb` on (in a function of its own for the reason
  /// given above `q4FourQuads`): pairs 0 and 2 into the accumulator at `sums`, 1 and 3 into the
  /// one 64 bytes on.
  @inline(never)
  private static func q8FourPairs(
    _ q: UnsafeRawPointer, _ s: UnsafeRawPointer, _ xb: UnsafeRawPointer,
    _ sums: UnsafeMutableRawPointer
  ) {
    trolley_prefetch(q + prefetchDistance)
    trolley_prefetch(q + (prefetchDistance + 64))
    trolley_prefetch(q + (prefetchDistance + 128))
    trolley_prefetch(q + (prefetchDistance + 192))
    var a0 = sums.load(as: SIMD16<Float>.self)
    var a1 = sums.load(fromByteOffset: 64, as: SIMD16<Float>.self)
    q8PairStep(q, s, xb, &a0)
    q8PairStep(q + 64, s + 4, xb + 256, &a1)
    q8PairStep(q + 128, s + 8, xb + 512, &a0)
    q8PairStep(q + 192, s + 12, xb + 768, &a1)
    sums.storeBytes(of: a0, as: SIMD16<Float>.self)
    sums.storeBytes(of: a1, toByteOffset: 64, as: SIMD16<Float>.self)
  }

  /// One pair of blocks into the accumulator at `sums`.
  @inline(never)
  private static func q8OnePair(
    _ q: UnsafeRawPointer, _ s: UnsafeRawPointer, _ xb: UnsafeRawPointer,
    _ sums: UnsafeMutableRawPointer
  ) {
    var a0 = sums.load(as: SIMD16<Float>.self)
    q8PairStep(q, s, xb, &a0)
    sums.storeBytes(of: a0, as: SIMD16<Float>.self)
  }

  /// acc += (s₀ ×8, s₁ ×8) ⊙ Σₙ q⁽ⁿ⁾ ⊙ x′⁽ⁿ⁾ for the two blocks whose quants are at `q`, scales at
  /// `s` and permuted activations at `xb`.
  @inline(__always)
  private static func q8PairStep(
    _ q: UnsafeRawPointer, _ s: UnsafeRawPointer, _ xb: UnsafeRawPointer,
    _ acc: inout SIMD16<Float>
  ) {
    let w = q.loadUnaligned(as: SIMD16<Int32>.self)
    let top = bits(SIMD16(repeating: -0x100_0000))
    // Wrapping multiplications by powers of two are the shifts (`&*` is a vector operation in
    // the standard library, `&<<` goes lane by lane).
    var d0 = floats(w &* 0x100_0000) * xb.loadUnaligned(as: SIMD16<Float>.self)
    var d1 =
      floats(bits(w &* 0x1_0000) .& top)
      * xb.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)
    d0.addProduct(
      floats(bits(w &* 0x100) .& top),
      xb.loadUnaligned(fromByteOffset: 128, as: SIMD16<Float>.self))
    d1.addProduct(
      floats(bits(w) .& top), xb.loadUnaligned(fromByteOffset: 192, as: SIMD16<Float>.self))
    let s0 = half(s)
    let s1 = half(s + 2)
    let scales = SIMD16<Float>(
      s0, s0, s0, s0, s0, s0, s0, s0, s1, s1, s1, s1, s1, s1, s1, s1)
    acc.addProduct(d0 + d1, scales)
  }

  /// Σ x·q over `count` ≤ 32 elements in natural order, unscaled.
  private static func q8Dot(_ q: UnsafeRawPointer, _ x: UnsafePointer<Float>, count: Int) -> Float {
    var sum: Float = 0
    for k in 0..<count { sum += Float(q.load(fromByteOffset: k, as: Int8.self)) * x[k] }
    return sum
  }

  @inline(__always)
  private static func half(_ s: UnsafeRawPointer) -> Float {
    Float(s.loadUnaligned(as: Float16.self))
  }

  /// Σ of the lanes of the two accumulators at `sums`.
  @inline(__always)
  private static func accumulatorsSum(_ sums: UnsafeRawPointer) -> Float {
    let total =
      sums.load(as: SIMD16<Float>.self) + sums.load(fromByteOffset: 64, as: SIMD16<Float>.self)
    return total.sum()
  }

  /// Sixteen 32-bit lanes seen as a mask, whose `.&` and `.|` the standard library implements
  /// with vector instructions (its `&` and `|` on SIMD16<Int32> go lane by lane, see above).
  typealias Bits = SIMDMask<SIMD16<Int32>>

  @inline(__always)
  private static func bits(_ v: SIMD16<Int32>) -> Bits { unsafeBitCast(v, to: Bits.self) }

  // MARK: widening, lane by lane

  // The stdlib's generic SIMD conversions are specializations that whole-module builds may emit
  // into another file's object, where they stay a call per vector; these lane conversions always
  // inline and fold into single instructions (`vcvtdq2ps`, `vpmovzxbd`, `vcvtph2ps`).

  @inline(__always)
  private static func floats(_ v: Bits) -> SIMD16<Float> {
    floats(unsafeBitCast(v, to: SIMD16<Int32>.self))
  }

  @inline(__always)
  private static func floats(_ v: SIMD16<Int32>) -> SIMD16<Float> {
    SIMD16(
      Float(v[0]), Float(v[1]), Float(v[2]), Float(v[3]), Float(v[4]), Float(v[5]), Float(v[6]),
      Float(v[7]), Float(v[8]), Float(v[9]), Float(v[10]), Float(v[11]), Float(v[12]),
      Float(v[13]), Float(v[14]), Float(v[15]))
  }

  @inline(__always)
  private static func floats(_ v: SIMD16<UInt8>) -> SIMD16<Float> {
    SIMD16(
      Float(v[0]), Float(v[1]), Float(v[2]), Float(v[3]), Float(v[4]), Float(v[5]), Float(v[6]),
      Float(v[7]), Float(v[8]), Float(v[9]), Float(v[10]), Float(v[11]), Float(v[12]),
      Float(v[13]), Float(v[14]), Float(v[15]))
  }

  @inline(__always)
  private static func floats(_ v: SIMD16<Float16>) -> SIMD16<Float> {
    SIMD16(
      Float(v[0]), Float(v[1]), Float(v[2]), Float(v[3]), Float(v[4]), Float(v[5]), Float(v[6]),
      Float(v[7]), Float(v[8]), Float(v[9]), Float(v[10]), Float(v[11]), Float(v[12]),
      Float(v[13]), Float(v[14]), Float(v[15]))
  }
}
