internal import COpenBLAS
internal import TensorAVX512

/// A 16-bit weight matrix (f16 or bf16) repacked at load into output panels, and its products.
///
/// Layout: panel p holds outputs 32p ..< 32p + 32 (the last one zero-padded); within it, input k
/// is one 64-byte line of the 32 outputs' values. A product then streams W strictly in order,
/// one line per k, and multiplies it against a broadcast activation: no horizontal sums, no
/// activation vector that must stay in L1 (the row-major m = 1 kernel lost ~40 % of its bandwidth
/// on the 2048 × 8192 down projection when its 32 KiB activation was evicted by the weight
/// stream), and one widened line serves every activation row of a decode batch.
///
/// Every output lane is a single fused multiply-add chain over k in order, from zero, for any
/// number of rows and on both instruction sets, so a decode batch equals its sequences run alone
/// bit for bit. Prefill (m ≥ `TiledProduct.sgemmMinimumRows`) widens panels to f32 Wᵀ and calls
/// sgemm.
struct HalfPanels: @unchecked Sendable {
  static let width = 32
  /// Bytes of one panel's k step.
  static let lineBytes = 64

  let outFeatures: Int
  let inFeatures: Int
  /// `.f16` or `.bf16`.
  let dtype: StorageDType
  let panelCount: Int
  /// `panelCount * inFeatures * 64` bytes or more: owned (`WeightMemory`), or borrowed from a
  /// mapped packed-weights file (never written then).
  let storage: UnsafeMutableRawBufferPointer
  /// Whether `deallocate` releases `storage`.
  let ownsStorage: Bool

  var byteCount: Int { outFeatures * inFeatures * 2 }

  /// Repacks a row-major [outFeatures, inFeatures] 16-bit matrix at `source` (any alignment).
  init(rowMajor source: UnsafeRawPointer, outFeatures: Int, inFeatures: Int, dtype: StorageDType) {
    self.outFeatures = outFeatures
    self.inFeatures = inFeatures
    self.dtype = dtype
    panelCount = (outFeatures + Self.width - 1) / Self.width
    storage = WeightMemory.allocate(byteCount: panelCount * inFeatures * Self.lineBytes)
    ownsStorage = true
    let target = storage.baseAddress!
    let (outF, inF) = (outFeatures, inFeatures)
    TensorThreads.parallelRanges(panelCount, granule: 1, minimumPerThread: 4) { panels in
      for p in panels {
        Self.pack(panel: p, from: source, outFeatures: outF, inFeatures: inF, into: target)
      }
    }
  }

  /// Copies one panel in blocks of 64 inputs: 32 rows × 128 bytes read, a 4 KiB block written.
  private static func pack(
    panel p: Int, from source: UnsafeRawPointer, outFeatures: Int, inFeatures: Int,
    into target: UnsafeMutableRawPointer
  ) {
    let panel = (target + p * inFeatures * lineBytes).assumingMemoryBound(to: UInt16.self)
    let rows = min(width, outFeatures - p * width)
    if rows < width { panel.update(repeating: 0, count: inFeatures * width) }
    var k0 = 0
    while k0 < inFeatures {
      let k1 = min(inFeatures, k0 + 64)
      for j in 0..<rows {
        let row = source + 2 * ((p * width + j) * inFeatures)
        for k in k0..<k1 {
          panel[k &* width &+ j] = row.loadUnaligned(fromByteOffset: 2 &* k, as: UInt16.self)
        }
      }
      k0 = k1
    }
  }

  /// Panels packed earlier (`packedBytes` of a weight of this shape), used in place: the memory
  /// must stay valid and unchanged while the panels are in use.
  init(packed: UnsafeRawPointer, outFeatures: Int, inFeatures: Int, dtype: StorageDType) {
    self.outFeatures = outFeatures
    self.inFeatures = inFeatures
    self.dtype = dtype
    panelCount = (outFeatures + Self.width - 1) / Self.width
    storage = UnsafeMutableRawBufferPointer(
      start: UnsafeMutableRawPointer(mutating: packed),
      count: panelCount * inFeatures * Self.lineBytes)
    ownsStorage = false
  }

  func deallocate() { if ownsStorage { WeightMemory.release(storage) } }

  /// The stored 16 bits of W[o, k].
  func storedBits(row o: Int, column k: Int) -> UInt16 {
    let (p, j) = o.quotientAndRemainder(dividingBy: Self.width)
    return line(panel: p, step: k).loadUnaligned(fromByteOffset: 2 * j, as: UInt16.self)
  }

  @inline(__always)
  private func line(panel p: Int, step k: Int) -> UnsafeRawPointer {
    UnsafeRawPointer(storage.baseAddress!) + (p &* inFeatures &+ k) &* Self.lineBytes
  }

  /// W[o, :] widened to f32.
  func copyRow(_ o: Int, into destination: UnsafeMutablePointer<Float>) {
    let (p, j) = o.quotientAndRemainder(dividingBy: Self.width)
    for k in 0..<inFeatures {
      let value = line(panel: p, step: k) + 2 * j
      destination[k] = dtype == .bf16 ? BF16Lanes.load1(value) : F16Lanes.load1(value)
    }
  }

  /// Wᵀ for the outputs of `panels`, widened: `destination[k * stride + (o - 32 * panels.first)]`
  /// for every real output o of those panels.
  func widenTransposed(
    panels: Range<Int>, into destination: UnsafeMutablePointer<Float>, stride: Int
  ) {
    if dtype == .bf16 {
      widenTransposed(BF16Lanes.self, panels, destination, stride)
    } else {
      widenTransposed(F16Lanes.self, panels, destination, stride)
    }
  }

  /// The widening is this file's inlined `load8` rather than a `HalfConversion.widenF16` call per
  /// 32-value run: in the one run that compared them, the calls made the 8192 × 2048 prefill
  /// product 411 ms instead of 224 ms (cause not pinned down: `widenF16` itself compiles to
  /// `vcvtph2ps` with no calls).
  @inline(__always)
  private func widenTransposed<E: HalfLanes>(
    _: E.Type, _ panels: Range<Int>, _ destination: UnsafeMutablePointer<Float>, _ stride: Int
  ) {
    for p in panels {
      let columns = min(Self.width, outFeatures &- p &* Self.width)
      let column = (p &- panels.lowerBound) &* Self.width
      var source = line(panel: p, step: 0)
      for k in 0..<inFeatures {
        let target = UnsafeMutableRawPointer(destination + (k &* stride &+ column))
        if columns == Self.width {
          target.storeBytes(of: E.load8(source), as: SIMD8<Float>.self)
          target.storeBytes(of: E.load8(source + 16), toByteOffset: 32, as: SIMD8<Float>.self)
          target.storeBytes(of: E.load8(source + 32), toByteOffset: 64, as: SIMD8<Float>.self)
          target.storeBytes(of: E.load8(source + 48), toByteOffset: 96, as: SIMD8<Float>.self)
        } else {
          for j in 0..<columns {
            target.storeBytes(
              of: E.load1(source + 2 &* j), toByteOffset: 4 &* j, as: Float.self)
          }
        }
        source += Self.lineBytes
      }
    }
  }

  /// y[m, outFeatures] = x[m, inFeatures] · Wᵀ (or `+=`).
  /// - Parameter compute: `.bf16` rounds activations and weights to bf16 on the prefill path
  ///   (see `ComputeMode.bf16`); anything else is exact.
  func multiply(
    _ x: UnsafePointer<Float>, rows m: Int, into y: UnsafeMutablePointer<Float>, accumulate: Bool,
    scratch: MatmulScratch, compute: ComputeMode = .f32
  ) {
    precondition(m >= 0, "multiply: \(m) rows")
    if m == 0 || outFeatures == 0 { return }
    if inFeatures == 0 {
      if !accumulate { y.update(repeating: 0, count: m * outFeatures) }
      return
    }
    if m < TiledProduct.sgemmMinimumRows {
      TensorThreads.parallelRanges(panelCount, granule: 1, minimumPerThread: 2) { panels in
        multiplyPanels(panels, x, rows: m, into: y, accumulate: accumulate)
      }
    } else if compute == .bf16 && BF16Kernel.best == .avx512bf16 {
      bf16DotProduct(x, rows: m, into: y, accumulate: accumulate, scratch: scratch)
    } else {
      widenedSgemm(
        x, rows: m, into: y, accumulate: accumulate, scratch: scratch,
        roundToBF16: compute == .bf16)
    }
  }

  /// The decode kernels over `panels`, on the widest instruction set this CPU has (or `isa`).
  func multiplyPanels(
    _ panels: Range<Int>, _ x: UnsafePointer<Float>, rows m: Int,
    into y: UnsafeMutablePointer<Float>, accumulate: Bool, isa: VectorISA = .best
  ) {
    if isa == .avx512 {
      HalfPanelKernels512.multiply(
        panels: UnsafeRawPointer(storage.baseAddress!), inFeatures: inFeatures,
        outFeatures: outFeatures, panels: panels, bf16: dtype == .bf16, x: x, rows: m, y: y,
        accumulate: accumulate)
    } else if dtype == .bf16 {
      multiplyPanels(BF16Lanes.self, panels, x, m, y, accumulate)
    } else {
      multiplyPanels(F16Lanes.self, panels, x, m, y, accumulate)
    }
  }

  /// Prefill: widen groups of panels to f32 Wᵀ in scratch, then one sgemm per group.
  ///
  /// `roundToBF16`: `--compute bf16` without AVX512-BF16: x and each widened group are rounded
  /// to bf16 first, so sgemm multiplies exactly the values `vdpbf16ps` would (a bf16 product is
  /// exact in f32) and sums them in f32.
  func widenedSgemm(
    _ x: UnsafePointer<Float>, rows m: Int, into y: UnsafeMutablePointer<Float>, accumulate: Bool,
    scratch: MatmulScratch, roundToBF16: Bool = false
  ) {
    let panelsPerChunk = max(
      1, min(panelCount, TiledProduct.sgemmChunkFloats / (inFeatures * Self.width)))
    let chunkFloats = panelsPerChunk * Self.width * inFeatures
    let buffer = scratch.floats(chunkFloats + (roundToBF16 ? m * inFeatures : 0))
    guard let transposed = buffer.baseAddress else { return }
    var x = x
    if roundToBF16 {
      let rounded = transposed + chunkFloats
      rounded.update(from: x, count: m * inFeatures)
      let k = inFeatures
      TensorThreads.parallelRanges(m, granule: 1, minimumPerThread: 16) { rows in
        BF16Rounding.round(rounded + rows.lowerBound * k, count: rows.count * k)
      }
      x = UnsafePointer(rounded)
    }
    var p0 = 0
    while p0 < panelCount {
      let p1 = min(panelCount, p0 + panelsPerChunk)
      let o0 = p0 * Self.width
      let n = min(outFeatures, p1 * Self.width) - o0
      TensorThreads.parallelRanges(p1 - p0, granule: 1, minimumPerThread: 4) { range in
        widenTransposed(
          panels: (p0 + range.lowerBound)..<(p0 + range.upperBound),
          into: transposed + range.lowerBound * Self.width, stride: n)
        if roundToBF16 {
          // Rows k of this group's columns; the stride is n, so round each k's run.
          for k in 0..<inFeatures {
            BF16Rounding.round(
              transposed + k * n + range.lowerBound * Self.width,
              count: min(n, range.upperBound * Self.width) - range.lowerBound * Self.width)
          }
        }
      }
      TensorThreads.yieldToBLAS()
      cblas_sgemm(
        CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(inFeatures), 1, x,
        Int32(inFeatures), transposed, Int32(n), accumulate ? 1 : 0, y + o0, Int32(outFeatures))
      p0 = p1
    }
  }

  /// AVX2: rows in pairs (8 accumulators of 8 lanes for the 32 outputs of each row, 4 widened
  /// vectors, 2 broadcasts: 14 of the 16 YMM registers), then a last single row.
  @inline(__always)
  private func multiplyPanels<E: HalfLanes>(
    _: E.Type, _ panels: Range<Int>, _ x: UnsafePointer<Float>, _ m: Int,
    _ y: UnsafeMutablePointer<Float>, _ accumulate: Bool
  ) {
    let k = inFeatures
    let outF = outFeatures
    for p in panels {
      let panel = line(panel: p, step: 0)
      let o = p &* Self.width
      let width = min(Self.width, outF &- o)
      var i = 0
      while m &- i >= 2 {
        Self.rows(
          E.self, panel, k, InlineArray<2, UnsafePointer<Float>> { x + (i &+ $0) &* k },
          InlineArray<2, UnsafeMutablePointer<Float>> { y + ((i &+ $0) &* outF &+ o) }, width,
          accumulate)
        i &+= 2
      }
      if i < m {
        Self.rows(
          E.self, panel, k, InlineArray<1, UnsafePointer<Float>> { _ in x + i &* k },
          InlineArray<1, UnsafeMutablePointer<Float>> { _ in y + (i &* outF &+ o) }, width,
          accumulate)
      }
    }
  }

  @inline(__always)
  private static func rows<let R: Int, E: HalfLanes>(
    _: E.Type, _ panel: UnsafeRawPointer, _ k: Int, _ x: InlineArray<R, UnsafePointer<Float>>,
    _ y: InlineArray<R, UnsafeMutablePointer<Float>>, _ width: Int, _ accumulate: Bool
  ) {
    var a0 = InlineArray<R, SIMD8<Float>>(repeating: .zero)
    var a1 = InlineArray<R, SIMD8<Float>>(repeating: .zero)
    var a2 = InlineArray<R, SIMD8<Float>>(repeating: .zero)
    var a3 = InlineArray<R, SIMD8<Float>>(repeating: .zero)
    var line = panel
    var step = 0
    while step < k {
      let w0 = E.load8(line)
      let w1 = E.load8(line + 16)
      let w2 = E.load8(line + 32)
      let w3 = E.load8(line + 48)
      for r in 0..<R {
        let v = SIMD8<Float>(repeating: x[r][step])
        a0[r].addProduct(v, w0)
        a1[r].addProduct(v, w1)
        a2[r].addProduct(v, w2)
        a3[r].addProduct(v, w3)
      }
      line += lineBytes
      step &+= 1
    }
    for r in 0..<R {
      let lanes = (a0[r], a1[r], a2[r], a3[r])
      if width == Self.width {
        store(lanes.0, y[r], accumulate)
        store(lanes.1, y[r] + 8, accumulate)
        store(lanes.2, y[r] + 16, accumulate)
        store(lanes.3, y[r] + 24, accumulate)
      } else {
        // The zero-padded last panel: only the real outputs are written.
        for j in 0..<width {
          let value: Float
          switch j >> 3 {
          case 0: value = lanes.0[j & 7]
          case 1: value = lanes.1[j & 7]
          case 2: value = lanes.2[j & 7]
          default: value = lanes.3[j & 7]
          }
          y[r][j] = accumulate ? y[r][j] + value : value
        }
      }
    }
  }

  @inline(__always)
  private static func store(
    _ value: SIMD8<Float>, _ target: UnsafeMutablePointer<Float>, _ accumulate: Bool
  ) {
    let raw = UnsafeMutableRawPointer(target)
    if accumulate {
      raw.storeBytes(of: raw.loadUnaligned(as: SIMD8<Float>.self) + value, as: SIMD8<Float>.self)
    } else {
      raw.storeBytes(of: value, as: SIMD8<Float>.self)
    }
  }
}

/// How 8 consecutive 16-bit weights widen to f32 in one AVX2 register.
private protocol HalfLanes {
  static func load8(_ address: UnsafeRawPointer) -> SIMD8<Float>
  static func load1(_ address: UnsafeRawPointer) -> Float
}

private enum F16Lanes: HalfLanes {
  @inline(__always)
  static func load8(_ address: UnsafeRawPointer) -> SIMD8<Float> {
    SIMD8<Float>(address.loadUnaligned(as: SIMD8<Float16>.self))
  }

  @inline(__always)
  static func load1(_ address: UnsafeRawPointer) -> Float {
    Float(address.loadUnaligned(as: Float16.self))
  }
}

private enum BF16Lanes: HalfLanes {
  @inline(__always)
  static func load8(_ address: UnsafeRawPointer) -> SIMD8<Float> {
    let bits = address.loadUnaligned(as: SIMD8<UInt16>.self)
    // Lane by lane: the stdlib's generic widening can stay an out-of-line call.
    let wide = SIMD8<UInt32>(
      UInt32(bits[0]), UInt32(bits[1]), UInt32(bits[2]), UInt32(bits[3]), UInt32(bits[4]),
      UInt32(bits[5]), UInt32(bits[6]), UInt32(bits[7]))
    return unsafeBitCast(wide &<< 16, to: SIMD8<Float>.self)
  }

  @inline(__always)
  static func load1(_ address: UnsafeRawPointer) -> Float {
    Float(bitPattern: UInt32(address.loadUnaligned(as: UInt16.self)) << 16)
  }
}
