internal import CProcessor

/// The AVX-512 products of 16-bit weights stored in output panels (see `HalfPanels` in Tensor
/// for the layout): 32 outputs per panel, each k step one 64-byte line of 32 f16 or bf16 values.
///
/// Every output lane is one fused multiply-add chain over k = 0, 1, … in order, starting from
/// zero, whatever the number of activation rows: a decode batch gives bit for bit the results of
/// its sequences run alone, and these kernels agree exactly with Tensor's AVX2 twins.
public enum HalfPanelKernels512 {
  /// Bytes ahead of the line being multiplied that the batch kernels prefetch into L1 (32 k
  /// steps): at 8 rows one step takes ~16 cycles, so this covers a DRAM latency. Measured on the
  /// 1.8B shapes (f16, two threads, three interleaved rounds): batch-8 step 138-139 ms at 2048 or
  /// 4096 bytes, 148-151 ms at 1024. A single row does not prefetch: its stream is the hardware
  /// prefetcher's best case, and the hint made the batch-1 step 118-121 ms instead of 76-81 ms.
  static let prefetchDistance = 2048

  /// y[i, o] = Σₖ x[i, k] · W[o, k] (or `+=` when `accumulate`) for the outputs of `panels` and
  /// the `rows` activation rows.
  ///
  /// - Parameters:
  ///   - base: panel 0; panel p starts `64 * inFeatures` bytes further on.
  ///   - outFeatures: the real number of outputs (the last panel may be zero-padded).
  ///   - x: `rows * inFeatures` floats; y: `rows * outFeatures` floats.
  public static func multiply(
    panels base: UnsafeRawPointer, inFeatures: Int, outFeatures: Int, panels: Range<Int>,
    bf16: Bool, x: UnsafePointer<Float>, rows m: Int, y: UnsafeMutablePointer<Float>,
    accumulate: Bool
  ) {
    if bf16 {
      multiply(
        BF16Lanes.self, base, inFeatures, outFeatures, panels, x, m, y, accumulate)
    } else {
      multiply(
        F16Lanes.self, base, inFeatures, outFeatures, panels, x, m, y, accumulate)
    }
  }

  @inline(__always)
  private static func multiply<E: WideningLoad>(
    _: E.Type, _ base: UnsafeRawPointer, _ k: Int, _ outF: Int, _ panels: Range<Int>,
    _ x: UnsafePointer<Float>, _ m: Int, _ y: UnsafeMutablePointer<Float>, _ accumulate: Bool
  ) {
    for p in panels {
      let panel = base + 64 &* k &* p
      let o = 32 &* p
      let width = min(32, outF &- o)
      var i = 0
      // Rows in groups of 8, then 4, 2, 1: each group re-reads the panel, from L2 after the first.
      while m &- i >= 8 {
        rows(
          E.self, panel, k, InlineArray<8, UnsafePointer<Float>> { x + (i &+ $0) &* k },
          InlineArray<8, UnsafeMutablePointer<Float>> { y + ((i &+ $0) &* outF &+ o) }, width,
          accumulate)
        i &+= 8
      }
      if m &- i >= 4 {
        rows(
          E.self, panel, k, InlineArray<4, UnsafePointer<Float>> { x + (i &+ $0) &* k },
          InlineArray<4, UnsafeMutablePointer<Float>> { y + ((i &+ $0) &* outF &+ o) }, width,
          accumulate)
        i &+= 4
      }
      if m &- i >= 2 {
        rows(
          E.self, panel, k, InlineArray<2, UnsafePointer<Float>> { x + (i &+ $0) &* k },
          InlineArray<2, UnsafeMutablePointer<Float>> { y + ((i &+ $0) &* outF &+ o) }, width,
          accumulate)
        i &+= 2
      }
      if m &- i >= 1 {
        rows(
          E.self, panel, k, InlineArray<1, UnsafePointer<Float>> { _ in x + i &* k },
          InlineArray<1, UnsafeMutablePointer<Float>> { _ in y + (i &* outF &+ o) }, width,
          accumulate)
      }
    }
  }

  /// One panel times R activation rows: 2R accumulators of 16 lanes (8 rows: 16 of the 32 ZMM
  /// registers), one broadcast per row and k, the panel's line widened once for all R rows.
  @inline(__always)
  private static func rows<let R: Int, E: WideningLoad>(
    _: E.Type, _ panel: UnsafeRawPointer, _ k: Int, _ x: InlineArray<R, UnsafePointer<Float>>,
    _ y: InlineArray<R, UnsafeMutablePointer<Float>>, _ width: Int, _ accumulate: Bool
  ) {
    var low = InlineArray<R, SIMD16<Float>>(repeating: .zero)
    var high = InlineArray<R, SIMD16<Float>>(repeating: .zero)
    var line = panel
    var step = 0
    while step < k {
      if R > 1 { trolley_prefetch_l1(line + prefetchDistance) }
      let w0 = E.load16(line)
      let w1 = E.load16(line + 32)
      for r in 0..<R {
        let v = SIMD16<Float>(repeating: x[r][step])
        low[r].addProduct(v, w0)
        high[r].addProduct(v, w1)
      }
      line += 64
      step &+= 1
    }
    for r in 0..<R {
      if width == 32 {
        store(low[r], y[r], accumulate)
        store(high[r], y[r] + 16, accumulate)
      } else {
        // The zero-padded last panel: only the real outputs are written.
        for j in 0..<min(16, width) {
          y[r][j] = accumulate ? y[r][j] + low[r][j] : low[r][j]
        }
        for j in 16..<max(16, width) {
          y[r][j] = accumulate ? y[r][j] + high[r][j &- 16] : high[r][j &- 16]
        }
      }
    }
  }

  @inline(__always)
  private static func store(
    _ value: SIMD16<Float>, _ target: UnsafeMutablePointer<Float>, _ accumulate: Bool
  ) {
    let raw = UnsafeMutableRawPointer(target)
    if accumulate {
      raw.storeBytes(of: raw.loadUnaligned(as: SIMD16<Float>.self) + value, as: SIMD16<Float>.self)
    } else {
      raw.storeBytes(of: value, as: SIMD16<Float>.self)
    }
  }
}

/// How 16 consecutive 16-bit weights widen to f32 in one register.
private protocol WideningLoad {
  static func load16(_ address: UnsafeRawPointer) -> SIMD16<Float>
}

/// IEEE binary16: one `vcvtph2ps` to a ZMM register (LLVM joins the two halves).
private enum F16Lanes: WideningLoad {
  @inline(__always)
  static func load16(_ address: UnsafeRawPointer) -> SIMD16<Float> {
    SIMD16<Float>(
      lowHalf: SIMD8<Float>(address.loadUnaligned(as: SIMD8<Float16>.self)),
      highHalf: SIMD8<Float>(address.loadUnaligned(fromByteOffset: 16, as: SIMD8<Float16>.self)))
  }
}

/// bfloat16: the upper half of an f32, so a zero-extension and a 16-bit shift.
private enum BF16Lanes: WideningLoad {
  @inline(__always)
  static func load16(_ address: UnsafeRawPointer) -> SIMD16<Float> {
    let bits = address.loadUnaligned(as: SIMD16<UInt16>.self)
    // Lane by lane: the stdlib's generic widening can stay an out-of-line call.
    var wide = SIMD16<UInt32>()
    for lane in 0..<16 { wide[lane] = UInt32(bits[lane]) }
    return unsafeBitCast(wide &<< 16, to: SIMD16<Float>.self)
  }
}
