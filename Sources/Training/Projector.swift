/// The trainable vision projector of either family.
///
/// InternLM2 (`mlp2x_gelu`): Linear(C → D) (`vision_proj.0`), GELU, Linear(D → D) (`vision_proj.2`).
/// Phi-3: LayerNorm(4C) (`vision_proj.0`, eps 1e-5), Linear (`.1`), GELU, Linear (`.3`).
final class Projector<T: Real>: @unchecked Sendable {
  let norm: (weight: Parameter<T>, bias: Parameter<T>)?
  let first: (weight: Parameter<T>, bias: Parameter<T>)
  let second: (weight: Parameter<T>, bias: Parameter<T>)
  let inputWidth: Int
  let hidden: Int
  static var eps: T { T(1e-5) }

  init(
    norm: (weight: Parameter<T>, bias: Parameter<T>)?,
    first: (weight: Parameter<T>, bias: Parameter<T>),
    second: (weight: Parameter<T>, bias: Parameter<T>)
  ) {
    self.norm = norm
    self.first = first
    self.second = second
    inputWidth = first.weight.shape[1]
    hidden = first.weight.shape[0]
  }

  var parameters: [Parameter<T>] {
    (norm.map { [$0.weight, $0.bias] } ?? []) + [
      first.weight, first.bias, second.weight, second.bias,
    ]
  }

  /// y[N, D] = proj(x[N, C]), keeping activations in the workspace for `backward`.
  func forward(
    _ x: UnsafePointer<T>, rows N: Int, into y: UnsafeMutablePointer<T>, workspace ws: Workspace<T>
  ) {
    let C = inputWidth
    let D = hidden
    var input = x
    if let norm {
      let normed = ws.get("proj.normed", N * C)
      layerNormForward(
        x, weight: norm.weight.value.p, bias: norm.bias.value.p, rows: N, dim: C, eps: Self.eps,
        into: normed, normalized: ws.get("proj.xhat", N * C), inverse: ws.get("proj.inv", N))
      input = UnsafePointer(normed)
    }
    let pre = ws.get("proj.pre", N * D)
    matmulForward(input, first.weight.value.p, rows: N, out: D, in: C, into: pre)
    addBiasRows(pre, first.bias.value.p, rows: N, dim: D)
    let act = ws.get("proj.act", N * D)
    geluForward(pre, count: N * D, into: act)
    matmulForward(act, second.weight.value.p, rows: N, out: D, in: D, into: y)
    addBiasRows(y, second.bias.value.p, rows: N, dim: D)
  }

  /// Parameter gradients (+=) and dx (written) from dy, after `forward` on the same x.
  func backward(
    _ dy: UnsafePointer<T>, input x: UnsafePointer<T>, rows N: Int, dx: UnsafeMutablePointer<T>,
    workspace ws: Workspace<T>
  ) {
    let C = inputWidth
    let D = hidden
    let input = norm == nil ? x : UnsafePointer(ws.get("proj.normed", N * C))
    let pre = ws.get("proj.pre", N * D)
    let act = ws.get("proj.act", N * D)
    matmulBackwardWeight(dy, act, rows: N, out: D, in: D, into: second.weight.grad.p)
    biasBackward(dy, rows: N, dim: D, into: second.bias.grad.p)
    let dact = ws.get("proj.dact", N * D)
    matmulBackwardInput(
      dy, second.weight.value.p, rows: N, out: D, in: D, into: dact, accumulate: false)
    let dpre = ws.get("proj.dpre", N * D)
    geluBackward(dact, input: pre, count: N * D, into: dpre)
    matmulBackwardWeight(dpre, input, rows: N, out: D, in: C, into: first.weight.grad.p)
    biasBackward(dpre, rows: N, dim: D, into: first.bias.grad.p)
    if let norm {
      let dnormed = ws.get("proj.dnormed", N * C)
      matmulBackwardInput(
        dpre, first.weight.value.p, rows: N, out: D, in: C, into: dnormed, accumulate: false)
      dx.update(repeating: 0, count: N * C)
      layerNormBackward(
        dnormed, normalized: ws.get("proj.xhat", N * C), weight: norm.weight.value.p,
        inverse: ws.get("proj.inv", N), rows: N, dim: C, into: dx, dWeight: norm.weight.grad.p,
        dBias: norm.bias.grad.p)
    } else {
      matmulBackwardInput(
        dpre, first.weight.value.p, rows: N, out: D, in: C, into: dx, accumulate: false)
    }
  }
}
