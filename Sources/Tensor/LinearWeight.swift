/// A weight matrix W of shape [outFeatures, inFeatures] (PyTorch `Linear` layout), used as y = x · Wᵀ.
///
/// Model code multiplies through this protocol only and never branches on the storage format
/// (f32, f16, bf16, q8, q4): the format is chosen once, when the checkpoint is loaded.
public protocol LinearWeight: Sendable {
  /// Rows of W: the width of y.
  var outFeatures: Int { get }
  /// Columns of W: the width of x.
  var inFeatures: Int { get }
  /// Bytes this weight occupies in memory.
  var byteCount: Int { get }

  /// y[m, outFeatures] = x[m, inFeatures] · Wᵀ (or `+=` when `accumulate` is true).
  ///
  /// - Parameters:
  ///   - x: `rows * inFeatures` floats, row-major and contiguous.
  ///   - rows: m, the number of activation rows (tokens, or tokens times sequences).
  ///   - y: `rows * outFeatures` floats, row-major and contiguous; must not overlap x.
  ///   - accumulate: add into y instead of overwriting it.
  ///   - scratch: per-state scratch memory that formats may use to widen weights; it grows once
  ///     and is reused, so steady-state calls allocate nothing.
  func multiply(
    _ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, accumulate: Bool,
    scratch: MatmulScratch)

  /// Copies row r of W, widened to f32, into `destination` (`inFeatures` floats). Used for
  /// embedding tables, which are stored as weights of shape [vocabulary, width].
  func copyRow(_ r: Int, into destination: UnsafeMutablePointer<Float>)
}

extension LinearWeight {
  /// W widened to f32 (dequantized), [outFeatures * inFeatures] row-major, row by row through
  /// `copyRow`: the matrix the format's products are tested against.
  public func dequantized() -> [Float] {
    [Float](unsafeUninitializedCapacity: outFeatures * inFeatures) { buffer, initialized in
      if let base = buffer.baseAddress {
        for o in 0..<outFeatures { copyRow(o, into: base + o * inFeatures) }
      }
      initialized = outFeatures * inFeatures
    }
  }

  /// The naive product against `dequantized()`, kept as the reference the kernels are tested
  /// against: y[rows, outFeatures] = x[rows, inFeatures] · Wᵀ, summed in f64.
  public func multiplyNaive(_ x: [Float], rows: Int) -> [Float] {
    let w = dequantized()
    var y = [Float](repeating: 0, count: rows * outFeatures)
    for i in 0..<rows {
      for o in 0..<outFeatures {
        var sum: Double = 0
        for k in 0..<inFeatures {
          sum += Double(x[i * inFeatures + k]) * Double(w[o * inFeatures + k])
        }
        y[i * outFeatures + o] = Float(sum)
      }
    }
    return y
  }
}

/// Reusable scratch memory for weight formats that widen to f32 before a BLAS product.
///
/// Owned by one sequence or batch state; not shared across threads.
public final class MatmulScratch {
  public private(set) var buffer: UnsafeMutableBufferPointer<Float>

  public init() {
    buffer = UnsafeMutableBufferPointer(start: nil, count: 0)
  }

  deinit {
    buffer.deallocate()
  }

  /// A buffer of at least `count` floats; reallocates only when it must grow.
  public func floats(_ count: Int) -> UnsafeMutableBufferPointer<Float> {
    if buffer.count < count {
      buffer.deallocate()
      buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: count)
    }
    return UnsafeMutableBufferPointer(rebasing: buffer[0..<count])
  }
}
