// One decoder layer of either family, forward with saved activations and its backward.
//
// Legend: N rows, D hidden, H query heads, Hkv key/value heads, Dh head width, F MLP width,
// W = (H + 2·Hkv)·Dh the packed q/k/v width.
//
//   u = RMSNorm(x);  [q|k|v] = qkv(u);  q, k rotated;  o = Attn(q, k, v);  h = x + out(o)
//   u' = RMSNorm(h); m = silu(gate(u')) ⊙ up(u');  y = h + down(m)

/// Where a family's packed q/k/v projection puts each head (column of head 0 and the stride).
struct QKVLayout: Sendable {
  var width: Int
  var queryColumns: [Int]
  var keyColumns: [Int]
  var valueColumns: [Int]
}

/// The MLP's input projections: InternLM2's separate w1 (gate) and w3 (up), or Phi-3's packed
/// gate_up_proj whose rows are [gate | up].
enum MLPInput<T: Real> {
  case separate(gate: AdaptedLinear<T>, up: AdaptedLinear<T>)
  case packed(AdaptedLinear<T>)
}

final class DecoderLayer<T: Real>: @unchecked Sendable {
  /// The RMSNorm weights, by their checkpoint names; trained only in the `all` set.
  let attentionNorm: Parameter<T>
  let qkv: AdaptedLinear<T>
  let output: AdaptedLinear<T>
  let mlpNorm: Parameter<T>
  let mlpInput: MLPInput<T>
  let down: AdaptedLinear<T>
  /// Whether the norms' gradients are accumulated (the `all` set).
  var trainsNorms = false

  init(
    attentionNorm: Parameter<T>, qkv: AdaptedLinear<T>, output: AdaptedLinear<T>,
    mlpNorm: Parameter<T>, mlpInput: MLPInput<T>, down: AdaptedLinear<T>
  ) {
    self.attentionNorm = attentionNorm
    self.qkv = qkv
    self.output = output
    self.mlpNorm = mlpNorm
    self.mlpInput = mlpInput
    self.down = down
  }

  var linears: [AdaptedLinear<T>] {
    switch mlpInput {
    case .separate(let gate, let up): [qkv, output, gate, up, down]
    case .packed(let gateUp): [qkv, output, gateUp, down]
    }
  }
}

/// Dimensions and constants a layer's forward and backward need.
struct LayerGeometry<T: Real> {
  var hidden: Int
  var heads: Int
  var kvHeads: Int
  var headDim: Int
  var intermediate: Int
  var eps: T
  var layout: QKVLayout

  /// The legend's letters at once: D, F, Dh, H, Hkv and W (the packed q/k/v row's width).
  var letters: (D: Int, F: Int, Dh: Int, H: Int, Hkv: Int, W: Int) {
    (hidden, intermediate, headDim, heads, kvHeads, layout.width)
  }
}

/// The activations of one pass of one layer over one sequence, kept for its backward.
final class PassActivations<T: Real> {
  let tag: String
  let ws: Workspace<T>
  let N: Int
  let g: LayerGeometry<T>
  var inv1, u1, q, k, v, P, att, h, inv2, u2, gate, up, m, y: UnsafeMutablePointer<T>

  init(tag: String, rows N: Int, geometry g: LayerGeometry<T>, workspace ws: Workspace<T>) {
    self.tag = tag
    self.ws = ws
    self.N = N
    self.g = g
    let D = g.hidden
    let F = g.intermediate
    let HD = g.heads * g.headDim
    let KD = g.kvHeads * g.headDim
    inv1 = ws.get(tag + ".inv1", N)
    u1 = ws.get(tag + ".u1", N * D)
    q = ws.get(tag + ".q", N * HD)
    k = ws.get(tag + ".k", N * KD)
    v = ws.get(tag + ".v", N * KD)
    P = ws.get(tag + ".P", g.heads * N * N)
    att = ws.get(tag + ".att", N * HD)
    h = ws.get(tag + ".h", N * D)
    inv2 = ws.get(tag + ".inv2", N)
    u2 = ws.get(tag + ".u2", N * D)
    gate = ws.get(tag + ".gate", N * F)
    up = ws.get(tag + ".up", N * F)
    m = ws.get(tag + ".m", N * F)
    y = ws.get(tag + ".y", N * D)
  }
}

extension DecoderLayer {
  /// Runs the layer on x [N, D] (one sequence at positions 0..<N), keeping every activation the
  /// backward needs in `acts`; the output is `acts.y`.
  func forward(
    _ x: UnsafePointer<T>, acts: PassActivations<T>, imageRows: [Int], rope: UnsafePointer<T>,
    mask: AttentionMask? = nil, workspace ws: Workspace<T>
  ) {
    let g = acts.g
    let N = acts.N
    let (D, F, Dh, H, Hkv, W) = g.letters
    rmsNormForward(
      x, weight: attentionNorm.value.p, rows: N, dim: D, eps: g.eps, into: acts.u1,
      inverse: acts.inv1)
    let packed = ws.get("fw.qkv", N * W)
    qkv.forward(acts.u1, rows: N, imageRows: imageRows, into: packed, workspace: ws)
    for r in 0..<N {
      let row = packed + r * W
      for h in 0..<H {
        (acts.q + r * H * Dh + h * Dh).update(from: row + g.layout.queryColumns[h], count: Dh)
      }
      for j in 0..<Hkv {
        (acts.k + r * Hkv * Dh + j * Dh).update(from: row + g.layout.keyColumns[j], count: Dh)
        (acts.v + r * Hkv * Dh + j * Dh).update(from: row + g.layout.valueColumns[j], count: Dh)
      }
    }
    ropeApply(acts.q, rows: N, rowStride: H * Dh, heads: H, headDim: Dh, table: rope)
    ropeApply(acts.k, rows: N, rowStride: Hkv * Dh, heads: Hkv, headDim: Dh, table: rope)
    attentionForward(
      q: acts.q, k: acts.k, v: acts.v, rows: N, heads: H, kvHeads: Hkv, headDim: Dh, causal: true,
      mask: mask, probabilities: acts.P, output: acts.att)
    output.forward(acts.att, rows: N, imageRows: imageRows, into: acts.h, workspace: ws)
    for i in 0..<(N * D) { acts.h[i] += x[i] }
    rmsNormForward(
      acts.h, weight: mlpNorm.value.p, rows: N, dim: D, eps: g.eps, into: acts.u2,
      inverse: acts.inv2)
    switch mlpInput {
    case .separate(let gate, let up):
      gate.forward(acts.u2, rows: N, imageRows: imageRows, into: acts.gate, workspace: ws)
      up.forward(acts.u2, rows: N, imageRows: imageRows, into: acts.up, workspace: ws)
    case .packed(let gateUp):
      let both = ws.get("fw.gateup", N * 2 * F)
      gateUp.forward(acts.u2, rows: N, imageRows: imageRows, into: both, workspace: ws)
      for r in 0..<N {
        (acts.gate + r * F).update(from: both + r * 2 * F, count: F)
        (acts.up + r * F).update(from: both + r * 2 * F + F, count: F)
      }
    }
    swiGLUForward(gate: acts.gate, up: acts.up, count: N * F, into: acts.m)
    down.forward(acts.m, rows: N, imageRows: imageRows, into: acts.y, workspace: ws)
    for i in 0..<(N * D) { acts.y[i] += acts.h[i] }
  }

  /// dx += d loss/d x given dy = d loss/d y; LoRA gradients accumulate. `x` is the pass's input.
  func backward(
    _ dy: UnsafePointer<T>, input x: UnsafePointer<T>, acts: PassActivations<T>,
    imageRows: [Int], rope: UnsafePointer<T>, into dx: UnsafeMutablePointer<T>,
    workspace ws: Workspace<T>
  ) {
    let g = acts.g
    let N = acts.N
    let (D, F, Dh, H, Hkv, W) = g.letters
    // y = h + down(m)
    let dh = ws.get("bw.dh", N * D)
    dh.update(from: dy, count: N * D)
    let dm = ws.get("bw.dm", N * F, zeroed: true)
    down.backward(dy, input: acts.m, rows: N, imageRows: imageRows, into: dm, workspace: ws)
    let dgate = ws.get("bw.dgate", N * F)
    let dup = ws.get("bw.dup", N * F)
    swiGLUBackward(dm, gate: acts.gate, up: acts.up, count: N * F, dGate: dgate, dUp: dup)
    let du = ws.get("bw.du", N * D, zeroed: true)
    switch mlpInput {
    case .separate(let gate, let up):
      gate.backward(dgate, input: acts.u2, rows: N, imageRows: imageRows, into: du, workspace: ws)
      up.backward(dup, input: acts.u2, rows: N, imageRows: imageRows, into: du, workspace: ws)
    case .packed(let gateUp):
      let both = ws.get("bw.dgateup", N * 2 * F)
      for r in 0..<N {
        (both + r * 2 * F).update(from: dgate + r * F, count: F)
        (both + r * 2 * F + F).update(from: dup + r * F, count: F)
      }
      gateUp.backward(both, input: acts.u2, rows: N, imageRows: imageRows, into: du, workspace: ws)
    }
    rmsNormBackward(
      du, x: acts.h, weight: mlpNorm.value.p, inverse: acts.inv2, rows: N, dim: D, into: dh,
      dWeight: trainsNorms ? mlpNorm.grad.p : nil)
    // h = x + out(att)
    let datt = ws.get("bw.datt", N * H * Dh, zeroed: true)
    output.backward(dh, input: acts.att, rows: N, imageRows: imageRows, into: datt, workspace: ws)
    let dq = ws.get("bw.dq", N * H * Dh, zeroed: true)
    let dk = ws.get("bw.dk", N * Hkv * Dh, zeroed: true)
    let dv = ws.get("bw.dv", N * Hkv * Dh, zeroed: true)
    let scratch = ws.get("bw.dP", N * N)
    attentionBackward(
      dOut: datt, q: acts.q, k: acts.k, v: acts.v, probabilities: acts.P, rows: N, heads: H,
      kvHeads: Hkv, headDim: Dh, dq: dq, dk: dk, dv: dv, scratch: scratch)
    ropeApply(dq, rows: N, rowStride: H * Dh, heads: H, headDim: Dh, table: rope, inverse: true)
    ropeApply(dk, rows: N, rowStride: Hkv * Dh, heads: Hkv, headDim: Dh, table: rope, inverse: true)
    let dpacked = ws.get("bw.dqkv", N * W)
    for r in 0..<N {
      let row = dpacked + r * W
      for h in 0..<H {
        (row + g.layout.queryColumns[h]).update(from: dq + r * H * Dh + h * Dh, count: Dh)
      }
      for j in 0..<Hkv {
        (row + g.layout.keyColumns[j]).update(from: dk + r * Hkv * Dh + j * Dh, count: Dh)
        (row + g.layout.valueColumns[j]).update(from: dv + r * Hkv * Dh + j * Dh, count: Dh)
      }
    }
    let du1 = ws.get("bw.du1", N * D, zeroed: true)
    qkv.backward(dpacked, input: acts.u1, rows: N, imageRows: imageRows, into: du1, workspace: ws)
    rmsNormBackward(
      du1, x: x, weight: attentionNorm.value.p, inverse: acts.inv1, rows: N, dim: D, into: dx,
      dWeight: trainsNorms ? attentionNorm.grad.p : nil)
    for i in 0..<(N * D) { dx[i] += dh[i] }
  }
}
