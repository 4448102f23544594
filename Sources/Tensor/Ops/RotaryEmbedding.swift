internal import Foundation

/// Rotary position embedding in the rotate-half convention (pairs (i, i + Dh/2) within a head), as
/// Hugging Face Llama-family code applies it: x·cos + rotate_half(x)·sin.
///
/// The angle for pair i at position p is p·invFrequency[i], computed in f32 exactly as the reference
/// does (a float product, then cos/sin), so cached keys match it to the last bits. `magnitude`
/// multiplies both cos and sin (Phi-3 LongRoPE's attention scaling; 1 elsewhere).
public struct RotaryEmbedding: Sendable {
  /// Dh: the head width the embedding rotates.
  public let headDim: Int
  /// Dh/2 inverse frequencies.
  public let inverseFrequencies: [Float]
  /// Factor applied to cos and sin after they are computed.
  public let magnitude: Float

  /// Plain RoPE: invFrequency[i] = 1 / base^(2i/Dh), computed in f32 like `base ** (arange(0, Dh, 2) / Dh)`.
  public init(headDim: Int, base: Float) {
    self.init(headDim: headDim, base: base, factors: nil, magnitude: 1)
  }

  /// LongRoPE ("su") scaling: invFrequency[i] = 1 / (factors[i] · base^(2i/Dh)), cos and sin times
  /// `magnitude`.
  public init(headDim: Int, base: Float, factors: [Float]?, magnitude: Float) {
    precondition(headDim % 2 == 0, "RotaryEmbedding: odd head width \(headDim)")
    precondition(
      factors == nil || factors!.count == headDim / 2,
      "RotaryEmbedding: \(factors!.count) factors for head width \(headDim)")
    self.headDim = headDim
    self.magnitude = magnitude
    self.inverseFrequencies = (0..<(headDim / 2)).map { i in
      let exponent = Float(2 * i) / Float(headDim)
      let power = powf(base, exponent)
      if let factors { return 1 / (factors[i] * power) }
      return 1 / power
    }
  }

  /// Fills `table` (`headDim` floats) with cos (first half) and sin (second half) for one position,
  /// both times `magnitude`; `rotate` then applies it to any number of heads.
  public func fillTable(_ table: UnsafeMutablePointer<Float>, position: Int) {
    let half = headDim / 2
    let p = Float(position)
    for i in 0..<half {
      let angle = p * inverseFrequencies[i]
      table[i] = cosf(angle) * magnitude
      table[half + i] = sinf(angle) * magnitude
    }
  }

  /// Rotates `heads` heads spaced `headStride` floats apart, in place, with a table from `fillTable`.
  public func rotate(
    _ x: UnsafeMutablePointer<Float>, heads: Int, headStride: Int, table: UnsafePointer<Float>
  ) {
    let half = headDim / 2
    for h in 0..<heads {
      let head = x + h * headStride
      for i in 0..<half {
        let c = table[i]
        let s = table[half + i]
        let x1 = head[i]
        let x2 = head[half + i]
        head[i] = x1 * c - x2 * s
        head[half + i] = x2 * c + x1 * s
      }
    }
  }

  /// Rotates `heads` consecutive heads of one token row in place.
  ///
  /// - Parameters:
  ///   - x: the first of `heads * headDim` floats (head-major).
  ///   - heads: how many heads follow each other in the row.
  ///   - position: the token's absolute position id.
  ///   - table: `headDim` floats of scratch for cos and sin.
  public func apply(
    _ x: UnsafeMutablePointer<Float>, heads: Int, position: Int, table: UnsafeMutablePointer<Float>
  ) {
    fillTable(table, position: position)
    rotate(x, heads: heads, headStride: headDim, table: table)
  }

  /// The reference rotation in f64 for one head, used by tests.
  public func applyNaive(_ x: [Float], position: Int) -> [Float] {
    let half = headDim / 2
    var y = x
    for i in 0..<half {
      // The angle itself is the f32 product, as in the reference; only cos/sin and the rotation
      // are done in f64 here.
      let angle = Double(Float(position) * inverseFrequencies[i])
      let c = cos(angle) * Double(magnitude)
      let s = sin(angle) * Double(magnitude)
      y[i] = Float(Double(x[i]) * c - Double(x[half + i]) * s)
      y[half + i] = Float(Double(x[half + i]) * c + Double(x[i]) * s)
    }
    return y
  }
}
