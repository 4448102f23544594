internal import CProcessor
import TrolleyBasics

/// A weight quantized to 8 bits in blocks of 32 consecutive inputs, each block with an f16 scale:
/// w ≈ q · s, q in -127...127, s = max|w| / 127 (8.5 bits per weight).
///
/// Activations stay f32: products multiply x by the dequantized matrix (exact up to summation
/// order), so the only error is the weight rounding, at most s / 2 per weight.
public final class Q8Weight: LinearWeight, TiledWeight, @unchecked Sendable {
  public let outFeatures: Int
  public let inFeatures: Int
  /// Quantized values (32 bytes a block) and block scales.
  let blocks: QuantizedBlocks<Int8>

  /// `.int8`: prefill products quantize activations and multiply in int8 (`Q8Weight+Int8`).
  public let compute: ComputeMode

  static var columnAlignment: Int { BlockQuantizer.blockSize }

  public var byteCount: Int { blocks.byteCount }

  /// Quantizes a checkpoint tensor of shape [out, in] and any storage dtype.
  ///
  /// - Throws: `TensorError.invalidShape` unless the shape is 2-D; `TensorError.nonFiniteValue`
  ///   if the tensor holds NaN or infinity; `TensorError.unsupportedFormat` for `compute`
  ///   `.bf16`, which q8 weights cannot run.
  public init(_ raw: RawTensorData, compute: ComputeMode = .f32) throws {
    guard compute != .bf16 else {
      throw TensorError(.unsupportedFormat, "bf16 compute needs 16-bit weights, not q8")
    }
    self.compute = compute
    (outFeatures, inFeatures) = try WeightShape.matrix(raw.shape, for: "Q8Weight")
    // 64-byte aligned, so that every pair of blocks is one cache line.
    blocks = QuantizedBlocks(outFeatures: outFeatures, inFeatures: inFeatures, quantsPerBlock: 32)
    try BlockQuantizer.forEachRow(
      of: raw, outFeatures: outFeatures, inFeatures: inFeatures, format: "q8"
    ) {
      quantizeRow($0, $1)
    }
  }

  /// Quantizes f32 values ([outFeatures * inFeatures], row-major).
  ///
  /// - Throws: `TensorError.nonFiniteValue` if a value is NaN or infinite.
  public convenience init(
    outFeatures: Int, inFeatures: Int, values: [Float], compute: ComputeMode = .f32
  ) throws {
    precondition(
      values.count == outFeatures * inFeatures,
      "Q8Weight: \(values.count) values for [\(outFeatures), \(inFeatures)]")
    try self.init(
      RawTensorData(copying: values, shape: [outFeatures, inFeatures]), compute: compute)
  }

  deinit {
    blocks.deallocate()
  }

  private func quantizeRow(_ o: Int, _ row: UnsafePointer<Float>) {
    for b in 0..<blocks.perRow {
      let start = b * 32
      let end = min(inFeatures, start + 32)
      var absMax: Float = 0
      for k in start..<end { absMax = max(absMax, abs(row[k])) }
      var scale = Float16(min(absMax / 127, Float(Float16.greatestFiniteMagnitude)))
      if scale == 0 && absMax > 0 { scale = .leastNonzeroMagnitude }
      blocks.scales[o * blocks.perRow + b] = scale
      let s = Float(scale)
      let q = blocks.quants.baseAddress! + o * blocks.perRow * 32
      for k in start..<end {
        q[k] = s == 0 ? 0 : Int8(max(-127, min(127, (row[k] / s).rounded(.toNearestOrEven))))
      }
    }
  }

  public func multiply(
    _ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, accumulate: Bool,
    scratch: MatmulScratch
  ) {
    if compute == .int8 && rows >= TiledProduct.sgemmMinimumRows {
      int8Multiply(x, rows: rows, into: y, accumulate: accumulate, scratch: scratch)
      return
    }
    tiledMultiply(x, rows: rows, into: y, accumulate: accumulate, scratch: scratch)
  }

  public func copyRow(_ r: Int, into destination: UnsafeMutablePointer<Float>) {
    tiledCopyRow(r, into: destination)
  }

  /// Lane by lane on purpose: the stdlib's generic SIMD conversions are specializations that
  /// multithreaded whole-module builds (`swift build -c release`) may emit into another file's
  /// object, where they stay a call per vector (q8 decode ran ~5x slower); these lane
  /// conversions always inline, and LLVM folds them into `vpmovsxbd` + `vcvtdq2ps`.
  @inline(__always)
  private static func load8(_ q: UnsafePointer<Int8>, _ k: Int) -> SIMD8<Float> {
    let v = UnsafeRawPointer(q + k).loadUnaligned(as: SIMD8<Int8>.self)
    return SIMD8(
      Float(v[0]), Float(v[1]), Float(v[2]), Float(v[3]), Float(v[4]), Float(v[5]), Float(v[6]),
      Float(v[7]))
  }

  func decodeTile(
    rows: Range<Int>, columns: Range<Int>, into tile: UnsafeMutablePointer<Float>, stride: Int
  ) {
    precondition(columns.lowerBound % 32 == 0, "Q8Weight.decodeTile: columns \(columns)")
    for (i, o) in rows.enumerated() {
      let q = UnsafePointer(blocks.quants.baseAddress! + o * blocks.perRow * 32)
      let out = UnsafeMutableRawPointer(tile + i * stride)
      var k = columns.lowerBound
      while k + 32 <= columns.upperBound {
        let s = SIMD8<Float>(repeating: Float(blocks.scales[o * blocks.perRow + k / 32]))
        let at = 4 * (k - columns.lowerBound)
        out.storeBytes(of: Self.load8(q, k) * s, toByteOffset: at, as: SIMD8<Float>.self)
        out.storeBytes(of: Self.load8(q, k + 8) * s, toByteOffset: at + 32, as: SIMD8<Float>.self)
        out.storeBytes(of: Self.load8(q, k + 16) * s, toByteOffset: at + 64, as: SIMD8<Float>.self)
        out.storeBytes(of: Self.load8(q, k + 24) * s, toByteOffset: at + 96, as: SIMD8<Float>.self)
        k += 32
      }
      while k < columns.upperBound {
        tile[i * stride + k - columns.lowerBound] =
          Float(q[k]) * Float(blocks.scales[o * blocks.perRow + k / 32])
        k += 1
      }
    }
  }

  func prefetchTile(rows: Range<Int>, columns: Range<Int>, into level: Prefetch.Level) {
    let count = (columns.count + 31) / 32
    for o in rows {
      Prefetch.bytes(
        blocks.quants.baseAddress! + o * blocks.perRow * 32 + columns.lowerBound,
        count: columns.count,
        into: level)
      Prefetch.bytes(
        blocks.scales.baseAddress! + o * blocks.perRow + columns.lowerBound / 32, count: 2 * count,
        into: level)
    }
  }

  /// The last, partial block's contribution (when inFeatures is not a multiple of 32).
  private func partialBlockDot(
    _ q: UnsafePointer<Int8>, _ s: UnsafeMutablePointer<Float16>, _ x: UnsafePointer<Float>
  ) -> Float {
    let fullBlocks = inFeatures / 32
    var sum: Float = 0
    for k in (fullBlocks * 32)..<inFeatures { sum += Float(q[k]) * x[k] }
    return sum * Float(s[fullBlocks])
  }

  /// m = 1: one row at a time, a single sequential stream per thread.
  ///
  /// A block's 32 bytes load as eight 32-bit lanes, lane i holding elements 4i ..< 4i + 4. Byte n
  /// is moved to the top of its lane by a shift and a mask, which reads as q · 2^24 exactly, so
  /// one vector of 8 weights costs a shift, a mask, a conversion and an FMA: no byte shuffles
  /// (sign-extending loads, `vpmovsxbd`, were the bottleneck). x is permuted once per call to
  /// match, x′[32b + 8n + i] = x[32b + 4i + n] · 2^-24; scaling by a power of two is exact (for
  /// |x| ≥ 2^-102), so every product equals x · q and the sum is exact up to summation order.
  func dotRows(
    _ rows: Range<Int>, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, accumulate: Bool
  ) {
    let fullBlocks = inFeatures / 32
    let rowBytes = blocks.perRow &* 32
    let permuted = ThreadScratch.floats(fullBlocks &* 32)
    Self.permute(x, into: permuted, blocks: fullBlocks)
    let xp = UnsafeRawPointer(permuted)
    let packed = UnsafeRawPointer(blocks.quants.baseAddress!)
    let scale = UnsafePointer(blocks.scales.baseAddress!)
    for o in rows {
      let q = packed + o &* rowBytes
      let s = scale + o &* blocks.perRow
      var a0 = SIMD8<Float>()
      var a1 = SIMD8<Float>()
      var b = 0
      while b &+ 2 <= fullBlocks {
        trolley_prefetch(q + (32 &* b &+ Self.prefetchDistance))
        a0.addProduct(Self.blockDot(q + 32 &* b, xp + 128 &* b), SIMD8(repeating: Float(s[b])))
        a1.addProduct(
          Self.blockDot(q + (32 &* b &+ 32), xp + (128 &* b &+ 128)),
          SIMD8(repeating: Float(s[b &+ 1])))
        b &+= 2
      }
      if b < fullBlocks {
        a0.addProduct(Self.blockDot(q + 32 &* b, xp + 128 &* b), SIMD8(repeating: Float(s[b])))
      }
      var sum = (a0 + a1).sum()
      if fullBlocks &* 32 < inFeatures {
        sum += partialBlockDot(
          q.assumingMemoryBound(to: Int8.self), blocks.scales.baseAddress! + o &* blocks.perRow, x)
      }
      y[o] = accumulate ? y[o] + sum : sum
    }
  }

  /// How far ahead of the block being multiplied `dotRows` asks for weight bytes (into L2). The
  /// hardware prefetchers alone fell behind on long rows: a 2048 × 8192 product streamed at half
  /// the rate of the 2048-wide ones on one thread, and at the full rate with this hint (4 KiB
  /// measured best of 0.5-32 KiB).
  static let prefetchDistance = 4096

  /// x′[32b + 8n + i] = x[32b + 4i + n] · 2^-24 for every full block b (see `dotRows`).
  private static func permute(
    _ x: UnsafePointer<Float>, into permuted: UnsafeMutablePointer<Float>, blocks: Int
  ) {
    for b in 0..<blocks {
      let source = x + 32 &* b
      let target = permuted + 32 &* b
      for n in 0..<4 {
        for i in 0..<8 { target[8 &* n &+ i] = source[4 &* i &+ n] * 0x1p-24 }
      }
    }
  }

  /// Σ x·q over one block, lane-wise and unscaled, from its quants at `q` and x′ at `xb`.
  @inline(__always)
  private static func blockDot(_ q: UnsafeRawPointer, _ xb: UnsafeRawPointer) -> SIMD8<Float> {
    let w = q.loadUnaligned(as: SIMD8<Int32>.self)
    let top = SIMD8<Int32>(repeating: -0x100_0000)
    var d0 = floats(w &<< 24) * xb.loadUnaligned(as: SIMD8<Float>.self)
    var d1 = floats((w &<< 16) & top) * xb.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
    d0.addProduct(
      floats((w &<< 8) & top), xb.loadUnaligned(fromByteOffset: 64, as: SIMD8<Float>.self))
    d1.addProduct(floats(w & top), xb.loadUnaligned(fromByteOffset: 96, as: SIMD8<Float>.self))
    return d0 + d1
  }

  /// Lane by lane for the same reason as `load8`; folds into one `vcvtdq2ps`.
  @inline(__always)
  private static func floats(_ v: SIMD8<Int32>) -> SIMD8<Float> {
    SIMD8(
      Float(v[0]), Float(v[1]), Float(v[2]), Float(v[3]), Float(v[4]), Float(v[5]), Float(v[6]),
      Float(v[7]))
  }
}
