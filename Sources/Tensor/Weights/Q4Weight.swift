internal import CProcessor

/// A weight quantized to 4 bits in blocks of 32 consecutive inputs, each block with an f16 scale
/// and minimum: w ≈ q · s + m, q in 0...15, m = min w, s = (max w − min w) / 15 (5 bits per
/// weight).
///
/// Within a block, byte j holds element j in its low nibble and element j + 16 in its high nibble,
/// so one 16-byte load unpacks into four 8-lane vectors with a mask and a shift. Activations stay
/// f32: Σ x·w = s · Σ x·q + m · Σ x per block, exact against the dequantized matrix up to
/// summation order; the only error is the weight rounding, at most s / 2 per weight.
public final class Q4Weight: LinearWeight, TiledWeight, @unchecked Sendable {
  public let outFeatures: Int
  public let inFeatures: Int
  /// Packed nibbles (16 bytes a block) and block scales.
  let blocks: QuantizedBlocks<UInt8>
  /// Block minimums, [outFeatures, blocks.perRow].
  let minimums: UnsafeMutableBufferPointer<Float16>

  static var columnAlignment: Int { BlockQuantizer.blockSize }

  public var byteCount: Int { blocks.byteCount + minimums.count * 2 }

  /// Quantizes a checkpoint tensor of shape [out, in] and any storage dtype.
  ///
  /// - Throws: `TensorError.invalidShape` unless the shape is 2-D; `TensorError.nonFiniteValue`
  ///   if the tensor holds NaN or infinity.
  public init(_ raw: RawTensorData) throws {
    (outFeatures, inFeatures) = try WeightShape.matrix(raw.shape, for: "Q4Weight")
    // 64-byte aligned, so that with 2048-wide rows every four-block load is one cache line.
    blocks = QuantizedBlocks(outFeatures: outFeatures, inFeatures: inFeatures, quantsPerBlock: 16)
    minimums = QuantizedBlocks<UInt8>.zeroed(outFeatures * blocks.perRow)
    try BlockQuantizer.forEachRow(
      of: raw, outFeatures: outFeatures, inFeatures: inFeatures, format: "q4"
    ) {
      quantizeRow($0, $1)
    }
  }

  /// Quantizes f32 values ([outFeatures * inFeatures], row-major).
  ///
  /// - Throws: `TensorError.nonFiniteValue` if a value is NaN or infinite.
  public convenience init(outFeatures: Int, inFeatures: Int, values: [Float]) throws {
    precondition(
      values.count == outFeatures * inFeatures,
      "Q4Weight: \(values.count) values for [\(outFeatures), \(inFeatures)]")
    try self.init(RawTensorData(copying: values, shape: [outFeatures, inFeatures]))
  }

  deinit {
    blocks.deallocate()
    minimums.deallocate()
  }

  private func quantizeRow(_ o: Int, _ row: UnsafePointer<Float>) {
    let limit = Float(Float16.greatestFiniteMagnitude)
    for b in 0..<blocks.perRow {
      let start = b * 32
      let end = min(inFeatures, start + 32)
      var low = row[start]
      var high = row[start]
      for k in start..<end {
        low = min(low, row[k])
        high = max(high, row[k])
      }
      let minimum = Float16(max(-limit, min(limit, low)))
      let scale = Float16(min(limit, (high - low) / 15))
      blocks.scales[o * blocks.perRow + b] = scale
      minimums[o * blocks.perRow + b] = minimum
      let s = Float(scale)
      let m = Float(minimum)
      let q = blocks.quants.baseAddress! + (o * blocks.perRow + b) * 16
      for k in start..<end {
        let value =
          s == 0 ? 0 : UInt8(max(0, min(15, ((row[k] - m) / s).rounded(.toNearestOrEven))))
        let j = k - start
        q[j & 15] |= j < 16 ? value : value << 4
      }
    }
  }

  public func multiply(
    _ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, accumulate: Bool,
    scratch: MatmulScratch
  ) {
    tiledMultiply(x, rows: rows, into: y, accumulate: accumulate, scratch: scratch)
  }

  public func copyRow(_ r: Int, into destination: UnsafeMutablePointer<Float>) {
    tiledCopyRow(r, into: destination)
  }

  /// q · s + m for 8 quantized values (not fused, matching the scalar path bit for bit).
  @inline(__always)
  private static func dequantize(_ q: SIMD8<UInt8>, _ s: SIMD8<Float>, _ m: SIMD8<Float>)
    -> SIMD8<Float>
  {
    floats(q) * s + m
  }

  /// Lane by lane on purpose: the stdlib's generic SIMD conversions are specializations that
  /// multithreaded whole-module builds (`swift build -c release`) may emit into another file's
  /// object, where they stay a call per vector (q4 decode ran ~8x slower); these lane
  /// conversions always inline, and LLVM folds them into `vpmovzxbd` + `vcvtdq2ps`.
  @inline(__always)
  private static func floats(_ q: SIMD8<UInt8>) -> SIMD8<Float> {
    SIMD8(
      Float(q[0]), Float(q[1]), Float(q[2]), Float(q[3]), Float(q[4]), Float(q[5]), Float(q[6]),
      Float(q[7]))
  }

  /// Element j of block `block` (the scalar path for a partial last block).
  @inline(__always)
  private func quant(_ block: Int, _ j: Int) -> Float {
    let byte = blocks.quants[block * 16 + (j & 15)]
    return Float(j < 16 ? byte & 0x0F : byte >> 4)
  }

  func decodeTile(
    rows: Range<Int>, columns: Range<Int>, into tile: UnsafeMutablePointer<Float>, stride: Int
  ) {
    precondition(columns.lowerBound % 32 == 0, "Q4Weight.decodeTile: columns \(columns)")
    for (i, o) in rows.enumerated() {
      let out = UnsafeMutableRawPointer(tile + i * stride)
      var k = columns.lowerBound
      while k + 32 <= columns.upperBound {
        let block = o * blocks.perRow + k / 32
        let s = SIMD8<Float>(repeating: Float(blocks.scales[block]))
        let m = SIMD8<Float>(repeating: Float(minimums[block]))
        let bytes = UnsafeRawPointer(blocks.quants.baseAddress! + block &* 16).loadUnaligned(
          as: SIMD16<UInt8>.self)
        let low = bytes & 0x0F
        let high = bytes &>> 4
        let at = 4 &* (k &- columns.lowerBound)
        out.storeBytes(
          of: Self.dequantize(low.lowHalf, s, m), toByteOffset: at, as: SIMD8<Float>.self)
        out.storeBytes(
          of: Self.dequantize(low.highHalf, s, m), toByteOffset: at &+ 32, as: SIMD8<Float>.self)
        out.storeBytes(
          of: Self.dequantize(high.lowHalf, s, m), toByteOffset: at &+ 64, as: SIMD8<Float>.self)
        out.storeBytes(
          of: Self.dequantize(high.highHalf, s, m), toByteOffset: at &+ 96, as: SIMD8<Float>.self)
        k += 32
      }
      while k < columns.upperBound {
        let block = o * blocks.perRow + k / 32
        tile[i * stride + k - columns.lowerBound] =
          quant(block, k % 32) * Float(blocks.scales[block]) + Float(minimums[block])
        k += 1
      }
    }
  }

  func prefetchTile(rows: Range<Int>, columns: Range<Int>, into level: Prefetch.Level) {
    let count = (columns.count + 31) / 32
    for o in rows {
      let first = o * blocks.perRow + columns.lowerBound / 32
      Prefetch.bytes(blocks.quants.baseAddress! + first * 16, count: 16 * count, into: level)
      Prefetch.bytes(blocks.scales.baseAddress! + first, count: 2 * count, into: level)
      Prefetch.bytes(minimums.baseAddress! + first, count: 2 * count, into: level)
    }
  }

  /// m = 1: one row at a time, a single sequential stream per thread.
  ///
  /// Two adjacent blocks (32 bytes) load as eight 32-bit lanes: lanes 0-3 hold bytes of the first
  /// block, lanes 4-7 of the second, so nibble n of lane i is one element (see `permute`). Masked
  /// in place, nibble n reads as q · 16^n exactly (n < 7; the top one is shifted down), so a
  /// vector of 8 weights costs a mask, a conversion and an FMA, with no byte shuffles. x is
  /// permuted once per call to match and scaled by 16^-n, which is exact (for |x| ≥ 2^-102), so
  /// every product equals x · q. Σ x·w = s · Σ x·q + m · Σ x per block: the scales of the two
  /// blocks multiply their halves of the vector, and the minimums' term is one dot product per
  /// row against the per-block sums of x, computed once per call.
  func dotRows(
    _ rows: Range<Int>, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, accumulate: Bool
  ) {
    let fullBlocks = inFeatures / 32
    let pairs = fullBlocks / 2
    let xSums = ThreadScratch.floats(fullBlocks &* 33)
    let permuted = xSums + fullBlocks
    for b in 0..<fullBlocks {
      let xb = UnsafeRawPointer(x + 32 &* b)
      let s01 =
        xb.loadUnaligned(as: SIMD8<Float>.self)
        + xb.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
      let s23 =
        xb.loadUnaligned(fromByteOffset: 64, as: SIMD8<Float>.self)
        + xb.loadUnaligned(fromByteOffset: 96, as: SIMD8<Float>.self)
      xSums[b] = (s01 + s23).sum()
    }
    Self.permute(x, into: permuted, pairs: pairs)
    let xp = UnsafeRawPointer(permuted)
    let packed = UnsafeRawPointer(blocks.quants.baseAddress!)
    let scale = UnsafeRawPointer(blocks.scales.baseAddress!)
    for o in rows {
      let first = o &* blocks.perRow
      let q = packed + first &* 16
      let s = scale + first &* 2
      var a0 = SIMD8<Float>()
      var a1 = SIMD8<Float>()
      var p = 0
      while p &+ 2 <= pairs {
        trolley_prefetch(q + (32 &* p &+ Self.prefetchDistance))
        Self.pairStep(q + 32 &* p, s + 4 &* p, xp + 256 &* p, &a0)
        Self.pairStep(q + (32 &* p &+ 32), s + (4 &* p &+ 4), xp + (256 &* p &+ 256), &a1)
        p &+= 2
      }
      if p < pairs { Self.pairStep(q + 32 &* p, s + 4 &* p, xp + 256 &* p, &a0) }
      var sum = (a0 + a1).sum() + minimumsDot(first, xSums, fullBlocks)
      if pairs &* 2 < fullBlocks {  // an odd full block after the last pair
        sum += blockDot(first &+ fullBlocks &- 1, x + 32 &* (fullBlocks &- 1))
      }
      if fullBlocks &* 32 < inFeatures { sum += partialBlockDot(first &+ fullBlocks, x) }
      y[o] = accumulate ? y[o] + sum : sum
    }
  }

  /// How far ahead of the pair being multiplied `dotRows` asks for weight bytes (into L2); see
  /// `Q8Weight.prefetchDistance`.
  static let prefetchDistance = 4096

  /// x′[64p + 8n + i] = x[64p + 32⌊i/4⌋ + 4(i mod 4) + ⌊n/2⌋ + 16(n mod 2)] · 16^-n (n < 7; the
  /// top nibble is shifted down, so its x is not scaled): the element that nibble n of lane i of
  /// pair p holds, given that byte j of a block holds elements j and j + 16.
  private static func permute(
    _ x: UnsafePointer<Float>, into permuted: UnsafeMutablePointer<Float>, pairs: Int
  ) {
    for p in 0..<pairs {
      let source = x + 64 &* p
      let target = permuted + 64 &* p
      for n in 0..<8 {
        let factor: Float = n == 7 ? 1 : Float(sign: .plus, exponent: -4 * n, significand: 1)
        for i in 0..<8 {
          let k = 32 &* (i / 4) &+ 4 &* (i % 4) &+ n / 2 &+ 16 &* (n % 2)
          target[8 &* n &+ i] = source[k] * factor
        }
      }
    }
  }

  /// acc += (s₀ ×4, s₁ ×4) ⊙ Σₙ q⁽ⁿ⁾ ⊙ x′⁽ⁿ⁾ for the pair of blocks whose quants are at `q`,
  /// scales at `s` and permuted activations at `xb`.
  @inline(__always)
  private static func pairStep(
    _ q: UnsafeRawPointer, _ s: UnsafeRawPointer, _ xb: UnsafeRawPointer,
    _ acc: inout SIMD8<Float>
  ) {
    let w = q.loadUnaligned(as: SIMD8<Int32>.self)
    var d0 = floats(w & 0xF) * xb.loadUnaligned(as: SIMD8<Float>.self)
    var d1 = floats(w & 0xF0) * xb.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
    d0.addProduct(floats(w & 0xF00), xb.loadUnaligned(fromByteOffset: 64, as: SIMD8<Float>.self))
    d1.addProduct(floats(w & 0xF000), xb.loadUnaligned(fromByteOffset: 96, as: SIMD8<Float>.self))
    d0.addProduct(
      floats(w & 0xF_0000), xb.loadUnaligned(fromByteOffset: 128, as: SIMD8<Float>.self))
    d1.addProduct(
      floats(w & 0xF0_0000), xb.loadUnaligned(fromByteOffset: 160, as: SIMD8<Float>.self))
    d0.addProduct(
      floats(w & 0xF00_0000), xb.loadUnaligned(fromByteOffset: 192, as: SIMD8<Float>.self))
    d1.addProduct(
      floats((w &>> 28) & 0xF), xb.loadUnaligned(fromByteOffset: 224, as: SIMD8<Float>.self))
    let s0 = Float(s.loadUnaligned(as: Float16.self))
    let s1 = Float(s.loadUnaligned(fromByteOffset: 2, as: Float16.self))
    acc.addProduct(d0 + d1, SIMD8(s0, s0, s0, s0, s1, s1, s1, s1))
  }

  /// Σ_b m_b · Σ x over block b, for the full blocks of the row starting at block `first`.
  @inline(__always)
  private func minimumsDot(_ first: Int, _ xSums: UnsafePointer<Float>, _ blocks: Int) -> Float {
    let m = UnsafeRawPointer(minimums.baseAddress! + first)
    let sums = UnsafeRawPointer(xSums)
    var acc = SIMD8<Float>()
    var b = 0
    while b &+ 8 <= blocks {
      let h = m.loadUnaligned(fromByteOffset: 2 &* b, as: SIMD8<Float16>.self)
      let widened = SIMD8<Float>(
        Float(h[0]), Float(h[1]), Float(h[2]), Float(h[3]), Float(h[4]), Float(h[5]), Float(h[6]),
        Float(h[7]))
      acc.addProduct(widened, sums.loadUnaligned(fromByteOffset: 4 &* b, as: SIMD8<Float>.self))
      b &+= 8
    }
    var sum = acc.sum()
    while b < blocks {
      sum += Float(minimums[first &+ b]) * xSums[b]
      b &+= 1
    }
    return sum
  }

  /// s · Σ x·q over one full block in natural order (x at `xb`; its minimum's term is in
  /// `minimumsDot`): the block left over after the last pair when a row has an odd number of
  /// full blocks.
  private func blockDot(_ block: Int, _ xb: UnsafePointer<Float>) -> Float {
    let bytes = UnsafeRawPointer(blocks.quants.baseAddress! + block &* 16).loadUnaligned(
      as: SIMD16<UInt8>.self)
    let low = bytes & 0x0F
    let high = bytes &>> 4
    let xr = UnsafeRawPointer(xb)
    var d = Self.floats(low.lowHalf) * xr.loadUnaligned(as: SIMD8<Float>.self)
    d.addProduct(
      Self.floats(low.highHalf), xr.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self))
    d.addProduct(
      Self.floats(high.lowHalf), xr.loadUnaligned(fromByteOffset: 64, as: SIMD8<Float>.self))
    d.addProduct(
      Self.floats(high.highHalf), xr.loadUnaligned(fromByteOffset: 96, as: SIMD8<Float>.self))
    return d.sum() * Float(blocks.scales[block])
  }

  /// Lane by lane, like `floats(_: SIMD8<UInt8>)`; folds into one `vcvtdq2ps`.
  @inline(__always)
  private static func floats(_ v: SIMD8<Int32>) -> SIMD8<Float> {
    SIMD8(
      Float(v[0]), Float(v[1]), Float(v[2]), Float(v[3]), Float(v[4]), Float(v[5]), Float(v[6]),
      Float(v[7]))
  }

  /// The last, partial block's contribution (when inFeatures is not a multiple of 32).
  private func partialBlockDot(_ block: Int, _ x: UnsafePointer<Float>) -> Float {
    let start = (inFeatures / 32) * 32
    var sum: Float = 0
    for k in start..<inFeatures {
      sum += x[k] * (quant(block, k - start) * Float(blocks.scales[block]) + Float(minimums[block]))
    }
    return sum
  }
}
