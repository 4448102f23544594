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
  /// Blocks per row: ⌈inFeatures / 32⌉; a partial last block is zero-padded.
  let blocksPerRow: Int
  /// Packed nibbles, [outFeatures, blocksPerRow * 16].
  let quants: UnsafeMutableBufferPointer<UInt8>
  /// Block scales and minimums, [outFeatures, blocksPerRow] each.
  let scales: UnsafeMutableBufferPointer<Float16>
  let minimums: UnsafeMutableBufferPointer<Float16>

  static var columnAlignment: Int { BlockQuantizer.blockSize }

  public var byteCount: Int { quants.count + scales.count * 2 + minimums.count * 2 }

  /// Quantizes a checkpoint tensor of shape [out, in] and any storage dtype.
  ///
  /// - Throws: `TensorError.invalidShape` unless the shape is 2-D; `TensorError.nonFiniteValue`
  ///   if the tensor holds NaN or infinity.
  public init(_ raw: RawTensorData) throws {
    (outFeatures, inFeatures) = try WeightShape.matrix(raw.shape, for: "Q4Weight")
    blocksPerRow = (inFeatures + 31) / 32
    quants = .allocate(capacity: max(1, outFeatures * blocksPerRow * 16))
    quants.initialize(repeating: 0)
    scales = .allocate(capacity: max(1, outFeatures * blocksPerRow))
    scales.initialize(repeating: 0)
    minimums = .allocate(capacity: max(1, outFeatures * blocksPerRow))
    minimums.initialize(repeating: 0)
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
    quants.deallocate()
    scales.deallocate()
    minimums.deallocate()
  }

  private func quantizeRow(_ o: Int, _ row: UnsafePointer<Float>) {
    let limit = Float(Float16.greatestFiniteMagnitude)
    for b in 0..<blocksPerRow {
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
      scales[o * blocksPerRow + b] = scale
      minimums[o * blocksPerRow + b] = minimum
      let s = Float(scale)
      let m = Float(minimum)
      let q = quants.baseAddress! + (o * blocksPerRow + b) * 16
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

  /// The dequantized matrix q · s + m, [outFeatures * inFeatures] row-major.
  public func dequantized() -> [Float] { tiledDequantized() }

  /// The naive product against `dequantized()` (summed in f64): the reference the kernels are
  /// tested against.
  public func multiplyNaive(_ x: [Float], rows: Int) -> [Float] {
    tiledMultiplyNaive(x, rows: rows)
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
    let byte = quants[block * 16 + (j & 15)]
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
        let block = o * blocksPerRow + k / 32
        let s = SIMD8<Float>(repeating: Float(scales[block]))
        let m = SIMD8<Float>(repeating: Float(minimums[block]))
        let bytes = UnsafeRawPointer(quants.baseAddress! + block &* 16).loadUnaligned(
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
        let block = o * blocksPerRow + k / 32
        tile[i * stride + k - columns.lowerBound] =
          quant(block, k % 32) * Float(scales[block]) + Float(minimums[block])
        k += 1
      }
    }
  }

  func prefetchTile(rows: Range<Int>, columns: Range<Int>, into level: Prefetch.Level) {
    let blocks = (columns.count + 31) / 32
    for o in rows {
      let first = o * blocksPerRow + columns.lowerBound / 32
      Prefetch.bytes(quants.baseAddress! + first * 16, count: 16 * blocks, into: level)
      Prefetch.bytes(scales.baseAddress! + first, count: 2 * blocks, into: level)
      Prefetch.bytes(minimums.baseAddress! + first, count: 2 * blocks, into: level)
    }
  }

  /// m = 1: one row at a time (a single sequential stream per thread, which measured faster
  /// than interleaving rows), two blocks per step into alternating accumulators. The per-block
  /// sums of x (for the minimum term) are computed once per call.
  func dotRows(
    _ rows: Range<Int>, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, accumulate: Bool
  ) {
    let fullBlocks = inFeatures / 32
    let xr = UnsafeRawPointer(x)
    withUnsafeTemporaryAllocation(of: Float.self, capacity: max(1, fullBlocks)) { sumsBuffer in
      let xSums = sumsBuffer.baseAddress!
      for b in 0..<fullBlocks {
        let xb = xr + 128 &* b
        let s01 =
          xb.loadUnaligned(as: SIMD8<Float>.self)
          + xb.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
        let s23 =
          xb.loadUnaligned(fromByteOffset: 64, as: SIMD8<Float>.self)
          + xb.loadUnaligned(fromByteOffset: 96, as: SIMD8<Float>.self)
        let s = s01 + s23
        xSums[b] = s.sum()
      }
      let packed = UnsafePointer(quants.baseAddress!)
      let scale = UnsafePointer(scales.baseAddress!)
      let minimum = UnsafePointer(minimums.baseAddress!)
      for o in rows {
        let first = o &* blocksPerRow
        var a0 = SIMD8<Float>()
        var a1 = SIMD8<Float>()
        var m0: Float = 0
        var m1: Float = 0
        var b = 0
        while b &+ 2 <= fullBlocks {
          Self.blockStep(packed, scale, minimum, first &+ b, xr + 128 &* b, xSums[b], &a0, &m0)
          Self.blockStep(
            packed, scale, minimum, first &+ b &+ 1, xr + 128 &* (b &+ 1), xSums[b &+ 1], &a1, &m1)
          b &+= 2
        }
        if b < fullBlocks {
          Self.blockStep(packed, scale, minimum, first &+ b, xr + 128 &* b, xSums[b], &a0, &m0)
        }
        var sum = (a0 + a1).sum() + (m0 + m1)
        if fullBlocks &* 32 < inFeatures { sum += partialBlockDot(first &+ fullBlocks, x) }
        y[o] = accumulate ? y[o] + sum : sum
      }
    }
  }

  /// acc += s · (q ⊙ x) for one block (x at `xb`), and minimumSum += m · Σ x.
  @inline(__always)
  private static func blockStep(
    _ packed: UnsafePointer<UInt8>, _ scales: UnsafePointer<Float16>,
    _ minimums: UnsafePointer<Float16>, _ block: Int, _ xb: UnsafeRawPointer, _ xSum: Float,
    _ acc: inout SIMD8<Float>, _ minimumSum: inout Float
  ) {
    let bytes = UnsafeRawPointer(packed + block &* 16).loadUnaligned(as: SIMD16<UInt8>.self)
    let low = bytes & 0x0F
    let high = bytes &>> 4
    var d =
      floats(low.lowHalf)
      * xb.loadUnaligned(as: SIMD8<Float>.self)
    d.addProduct(
      floats(low.highHalf),
      xb.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self))
    d.addProduct(
      floats(high.lowHalf),
      xb.loadUnaligned(fromByteOffset: 64, as: SIMD8<Float>.self))
    d.addProduct(
      floats(high.highHalf),
      xb.loadUnaligned(fromByteOffset: 96, as: SIMD8<Float>.self))
    acc.addProduct(d, SIMD8(repeating: Float(scales[block])))
    minimumSum += Float(minimums[block]) * xSum
  }

  /// The last, partial block's contribution (when inFeatures is not a multiple of 32).
  private func partialBlockDot(_ block: Int, _ x: UnsafePointer<Float>) -> Float {
    let start = (inFeatures / 32) * 32
    var sum: Float = 0
    for k in start..<inFeatures {
      sum += x[k] * (quant(block, k - start) * Float(scales[block]) + Float(minimums[block]))
    }
    return sum
  }
}
