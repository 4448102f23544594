internal import Tensor

/// TroL-3.8B's `vision_proj` (InternVL's mlp1): LayerNorm(4C), Linear(4C → D), exact GELU, Linear(D → D).
///
/// Keys: `vision_proj.0.{weight,bias}` [4C] (eps 1e-5), `vision_proj.1.*` [D, 4C] + [D],
/// `vision_proj.3.*` [D, D] + [D].
struct LayerNormMLPProjector: Sendable {
  let normWeight: [Float]
  let normBias: [Float]
  let first: Linear
  let second: Linear
  static let eps: Float = 1e-5

  init(loader: WeightLoader, inputWidth W: Int, hidden D: Int) throws {
    normWeight = try loader.floats("vision_proj.0.weight", shape: [W])
    normBias = try loader.floats("vision_proj.0.bias", shape: [W])
    first = try Linear(loader, "vision_proj.1", out: D, in: W, hasBias: true)
    second = try Linear(loader, "vision_proj.3", out: D, in: D, hasBias: true)
  }

  /// y[N, D] = proj(x[N, 4C]); `normed` is scratch of N·4C floats and `inner` of N·D floats.
  func forward(
    _ x: UnsafePointer<Float>, rows N: Int, into y: UnsafeMutablePointer<Float>,
    normed: UnsafeMutablePointer<Float>, inner: UnsafeMutablePointer<Float>, scratch: MatmulScratch
  ) {
    normWeight.withUnsafeBufferPointer { w in
      normBias.withUnsafeBufferPointer { b in
        layerNorm(
          normed, x, weight: w.baseAddress!, bias: b.baseAddress!, rows: N, dim: normWeight.count,
          eps: Self.eps)
      }
    }
    first(normed, rows: N, into: inner, scratch: scratch)
    gelu(inner, count: N * first.outFeatures)
    second(inner, rows: N, into: y, scratch: scratch)
  }
}
