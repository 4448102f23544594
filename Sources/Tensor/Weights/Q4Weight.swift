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

  /// The 32 quantized values of one block as four 8-lane vectors, in element order.
  @inline(__always)
  private static func unpack(_ block: UnsafePointer<UInt8>)
    -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>)
  {
    let bytes = UnsafeRawPointer(block).loadUnaligned(as: SIMD16<UInt8>.self)
    let low = bytes & 0x0F
    let high = bytes &>> 4
    return (
      SIMD8<Float>(SIMD8<Int32>(truncatingIfNeeded: low.lowHalf)),
      SIMD8<Float>(SIMD8<Int32>(truncatingIfNeeded: low.highHalf)),
      SIMD8<Float>(SIMD8<Int32>(truncatingIfNeeded: high.lowHalf)),
      SIMD8<Float>(SIMD8<Int32>(truncatingIfNeeded: high.highHalf))
    )
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
        let (q0, q1, q2, q3) = Self.unpack(quants.baseAddress! + block * 16)
        let at = 4 * (k - columns.lowerBound)
        out.storeBytes(of: q0 * s + m, toByteOffset: at, as: SIMD8<Float>.self)
        out.storeBytes(of: q1 * s + m, toByteOffset: at + 32, as: SIMD8<Float>.self)
        out.storeBytes(of: q2 * s + m, toByteOffset: at + 64, as: SIMD8<Float>.self)
        out.storeBytes(of: q3 * s + m, toByteOffset: at + 96, as: SIMD8<Float>.self)
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

  /// m = 1: four rows at a time share each activation load and the per-block sums of x (for the
  /// minimum term). A last row group shorter than four repeats its last row.
  func dotRows(
    _ rows: Range<Int>, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, accumulate: Bool
  ) {
    let fullBlocks = inFeatures / 32
    let xr = UnsafeRawPointer(x)
    withUnsafeTemporaryAllocation(of: Float.self, capacity: max(1, fullBlocks)) { sumsBuffer in
      let xSums = sumsBuffer.baseAddress!
      for b in 0..<fullBlocks {
        var s = SIMD8<Float>()
        for c in Swift.stride(from: 0, to: 32, by: 8) {
          s += xr.loadUnaligned(fromByteOffset: 4 * (32 * b + c), as: SIMD8<Float>.self)
        }
        xSums[b] = s.sum()
      }
      var o = rows.lowerBound
      while o < rows.upperBound {
        let count = min(4, rows.upperBound - o)
        let b0 = o * blocksPerRow
        let b1 = (o + min(1, count - 1)) * blocksPerRow
        let b2 = (o + min(2, count - 1)) * blocksPerRow
        let b3 = (o + min(3, count - 1)) * blocksPerRow
        var a0 = SIMD8<Float>()
        var a1 = SIMD8<Float>()
        var a2 = SIMD8<Float>()
        var a3 = SIMD8<Float>()
        var m0: Float = 0
        var m1: Float = 0
        var m2: Float = 0
        var m3: Float = 0
        for b in 0..<fullBlocks {
          let v0 = xr.loadUnaligned(fromByteOffset: 128 * b, as: SIMD8<Float>.self)
          let v1 = xr.loadUnaligned(fromByteOffset: 128 * b + 32, as: SIMD8<Float>.self)
          let v2 = xr.loadUnaligned(fromByteOffset: 128 * b + 64, as: SIMD8<Float>.self)
          let v3 = xr.loadUnaligned(fromByteOffset: 128 * b + 96, as: SIMD8<Float>.self)
          let sum = xSums[b]
          blockStep(b0 + b, v0, v1, v2, v3, sum, &a0, &m0)
          blockStep(b1 + b, v0, v1, v2, v3, sum, &a1, &m1)
          blockStep(b2 + b, v0, v1, v2, v3, sum, &a2, &m2)
          blockStep(b3 + b, v0, v1, v2, v3, sum, &a3, &m3)
        }
        var r0 = a0.sum() + m0
        var r1 = a1.sum() + m1
        var r2 = a2.sum() + m2
        var r3 = a3.sum() + m3
        if fullBlocks * 32 < inFeatures {
          r0 += partialBlockDot(b0 + fullBlocks, x)
          r1 += partialBlockDot(b1 + fullBlocks, x)
          r2 += partialBlockDot(b2 + fullBlocks, x)
          r3 += partialBlockDot(b3 + fullBlocks, x)
        }
        RowResults.store(r0, r1, r2, r3, count: count, into: y + o, accumulate: accumulate)
        o += count
      }
    }
  }

  /// acc += s · (q ⊙ x) for one block, and minimumSum += m · Σ x.
  @inline(__always)
  private func blockStep(
    _ block: Int, _ v0: SIMD8<Float>, _ v1: SIMD8<Float>, _ v2: SIMD8<Float>, _ v3: SIMD8<Float>,
    _ xSum: Float, _ acc: inout SIMD8<Float>, _ minimumSum: inout Float
  ) {
    let (q0, q1, q2, q3) = Self.unpack(quants.baseAddress! + block * 16)
    var d = q0 * v0
    d.addProduct(q1, v1)
    d.addProduct(q2, v2)
    d.addProduct(q3, v3)
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
