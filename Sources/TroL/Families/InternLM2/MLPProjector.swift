internal import Tensor

/// TroL-1.8B/7B's `vision_proj` (mlp2x_gelu): Linear(C → D), exact GELU, Linear(D → D).
///
/// Keys: `vision_proj.0.{weight,bias}` [D, C] + [D], `vision_proj.2.{weight,bias}` [D, D] + [D].
struct MLPProjector: Sendable {
  let first: Linear
  let second: Linear

  init(loader: WeightLoader, visionWidth C: Int, hidden D: Int) throws {
    first = try Linear(loader, "vision_proj.0", out: D, in: C, hasBias: true)
    second = try Linear(loader, "vision_proj.2", out: D, in: D, hasBias: true)
  }

  /// y[N, D] = proj(x[N, C]); `inner` is scratch of N·D floats.
  func forward(
    _ x: UnsafePointer<Float>, rows N: Int, into y: UnsafeMutablePointer<Float>,
    inner: UnsafeMutablePointer<Float>, scratch: MatmulScratch
  ) {
    first(x, rows: N, into: inner, scratch: scratch)
    gelu(inner, count: N * first.outFeatures)
    second(inner, rows: N, into: y, scratch: scratch)
  }
}
