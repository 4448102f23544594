// The vision tower trained by the `all` set, forward and backward, for both families.
//
// Legend: S tile side, P patch, G = S/P, N = G² + 1 tokens (CLS first), C width, I MLP width.
//
// CLIP (InternLM2 family): patches·Wᵀ (no bias) → [CLS; patches] + positions → pre_layrnorm →
//   layers → last layer's output, CLS dropped → [G², C].
// InternViT (Phi-3 family): patches·Wᵀ + b → [CLS; patches] + positions → layers (layer scale) →
//   last layer's output, CLS dropped → pixel shuffle → [(G/2)², 4C].
// Layers: h = x + ls1 ⊙ proj(Attn(LN1(x)));  y = h + ls2 ⊙ fc2(act(fc1(LN2(h)))).
// Like the decoder, the backward keeps only each layer's input and recomputes the layer.

internal import TroL

/// One pre-LayerNorm encoder layer with bidirectional attention.
struct VisionLayer<T: Real> {
  enum QKV {
    /// CLIP's separate q_proj, k_proj, v_proj.
    case separate(DenseLinear<T>, DenseLinear<T>, DenseLinear<T>)
    /// InternViT's attn.qkv with rows [q | k | v].
    case packed(DenseLinear<T>)
  }
  let norm1: NormParameters<T>
  let qkv: QKV
  let projection: DenseLinear<T>
  let norm2: NormParameters<T>
  let fc1: DenseLinear<T>
  let fc2: DenseLinear<T>
  let layerScale1: Parameter<T>?
  let layerScale2: Parameter<T>?
  let quickGELU: Bool
  let heads: Int
  let eps: T

  var parameters: [Parameter<T>] {
    var list = norm1.parameters
    switch qkv {
    case .separate(let q, let k, let v): list += q.parameters + k.parameters + v.parameters
    case .packed(let p): list += p.parameters
    }
    list += projection.parameters + norm2.parameters + fc1.parameters + fc2.parameters
    if let layerScale1 { list.append(layerScale1) }
    if let layerScale2 { list.append(layerScale2) }
    return list
  }
}

/// What a LayerNorm's forward keeps for its backward: its output u, the normalized x̂ and 1/σ of
/// each row.
struct LayerNormActivations<T: Real> {
  let output, normalized, inverse: UnsafeMutablePointer<T>

  init(_ ws: Workspace<T>, _ tag: String, rows N: Int, width C: Int) {
    output = ws.get(tag + ".u", N * C)
    normalized = ws.get(tag + ".xhat", N * C)
    inverse = ws.get(tag + ".inv", N)
  }
}

extension NormParameters {
  /// saved.output = LayerNorm(x[rows, width]), keeping x̂ and 1/σ in `saved`.
  func forward(_ x: UnsafePointer<T>, rows: Int, eps: T, saving saved: LayerNormActivations<T>) {
    layerNormForward(
      x, weight: weight.value.p, bias: bias.value.p, rows: rows, dim: weight.count, eps: eps,
      into: saved.output, normalized: saved.normalized, inverse: saved.inverse)
  }

  /// dx += dy back through the LayerNorm (`layerNormBackward`); the weight and bias gradients too.
  func backward(
    _ dy: UnsafePointer<T>, rows: Int, saved: LayerNormActivations<T>,
    into dx: UnsafeMutablePointer<T>
  ) {
    layerNormBackward(
      dy, normalized: saved.normalized, weight: weight.value.p, inverse: saved.inverse,
      rows: rows, dim: weight.count, into: dx, dWeight: weight.grad.p, dBias: bias.grad.p)
  }
}

/// The activations of one layer over one tile, kept for its backward.
final class VisionActivations<T: Real> {
  let N: Int
  let norm1, norm2: LayerNormActivations<T>
  var q, k, v, P, att, o, h, f, a, z, y: UnsafeMutablePointer<T>

  init(rows N: Int, width C: Int, intermediate I: Int, heads H: Int, workspace ws: Workspace<T>) {
    self.N = N
    norm1 = LayerNormActivations(ws, "vit.norm1", rows: N, width: C)
    norm2 = LayerNormActivations(ws, "vit.norm2", rows: N, width: C)
    q = ws.get("vit.q", N * C)
    k = ws.get("vit.k", N * C)
    v = ws.get("vit.v", N * C)
    P = ws.get("vit.P", H * N * N)
    att = ws.get("vit.att", N * C)
    o = ws.get("vit.o", N * C)
    h = ws.get("vit.h", N * C)
    f = ws.get("vit.f", N * I)
    a = ws.get("vit.a", N * I)
    z = ws.get("vit.z", N * C)
    y = ws.get("vit.y", N * C)
  }
}

extension VisionLayer {
  var width: Int { norm1.weight.count }

  /// y = layer(x) into `acts.y`, every activation kept in `acts`.
  func forward(_ x: UnsafePointer<T>, acts: VisionActivations<T>, workspace ws: Workspace<T>) {
    let N = acts.N
    let C = width
    let I = fc1.out
    norm1.forward(x, rows: N, eps: eps, saving: acts.norm1)
    switch qkv {
    case .separate(let q, let k, let v):
      q.forward(acts.norm1.output, rows: N, into: acts.q)
      k.forward(acts.norm1.output, rows: N, into: acts.k)
      v.forward(acts.norm1.output, rows: N, into: acts.v)
    case .packed(let p):
      let packed = ws.get("vit.qkv", N * 3 * C)
      p.forward(acts.norm1.output, rows: N, into: packed)
      for r in 0..<N {
        (acts.q + r * C).update(from: packed + r * 3 * C, count: C)
        (acts.k + r * C).update(from: packed + r * 3 * C + C, count: C)
        (acts.v + r * C).update(from: packed + r * 3 * C + 2 * C, count: C)
      }
    }
    attentionForward(
      q: acts.q, k: acts.k, v: acts.v, rows: N, heads: heads, kvHeads: heads,
      headDim: C / heads, causal: false, probabilities: acts.P, output: acts.att)
    projection.forward(acts.att, rows: N, into: acts.o)
    scaledResidual(x, acts.o, scale: layerScale1, rows: N, dim: C, into: acts.h)
    norm2.forward(acts.h, rows: N, eps: eps, saving: acts.norm2)
    fc1.forward(acts.norm2.output, rows: N, into: acts.f)
    if quickGELU {
      quickGELUForward(acts.f, count: N * I, into: acts.a)
    } else {
      geluForward(acts.f, count: N * I, into: acts.a)
    }
    fc2.forward(acts.a, rows: N, into: acts.z)
    scaledResidual(acts.h, acts.z, scale: layerScale2, rows: N, dim: C, into: acts.y)
  }

  /// dx += d loss/d x from dy, every parameter's gradient accumulated; `x` is the layer's input.
  func backward(
    _ dy: UnsafePointer<T>, input x: UnsafePointer<T>, acts: VisionActivations<T>,
    into dx: UnsafeMutablePointer<T>, workspace ws: Workspace<T>
  ) {
    let N = acts.N
    let C = width
    let I = fc1.out
    // y = h + ls2 ⊙ z
    let dh = ws.get("vit.dh", N * C)
    dh.update(from: dy, count: N * C)
    let dz = ws.get("vit.dz", N * C)
    scaleBackward(dy, acts.z, scale: layerScale2, rows: N, dim: C, into: dz)
    let da = ws.get("vit.da", N * I, zeroed: true)
    fc2.backward(dz, input: acts.a, rows: N, into: da)
    let df = ws.get("vit.df", N * I)
    if quickGELU {
      quickGELUBackward(da, input: acts.f, count: N * I, into: df)
    } else {
      geluBackward(da, input: acts.f, count: N * I, into: df)
    }
    let du2 = ws.get("vit.du2", N * C, zeroed: true)
    fc1.backward(df, input: acts.norm2.output, rows: N, into: du2)
    norm2.backward(du2, rows: N, saved: acts.norm2, into: dh)
    // h = x + ls1 ⊙ o
    let dout = ws.get("vit.do", N * C)
    scaleBackward(dh, acts.o, scale: layerScale1, rows: N, dim: C, into: dout)
    let datt = ws.get("vit.datt", N * C, zeroed: true)
    projection.backward(dout, input: acts.att, rows: N, into: datt)
    let dq = ws.get("vit.dq", N * C, zeroed: true)
    let dk = ws.get("vit.dk", N * C, zeroed: true)
    let dv = ws.get("vit.dv", N * C, zeroed: true)
    attentionBackward(
      dOut: datt, q: acts.q, k: acts.k, v: acts.v, probabilities: acts.P, rows: N, heads: heads,
      kvHeads: heads, headDim: C / heads, dq: dq, dk: dk, dv: dv,
      scratch: ws.get("vit.dP", N * N))
    let du1 = ws.get("vit.du1", N * C, zeroed: true)
    switch qkv {
    case .separate(let q, let k, let v):
      q.backward(dq, input: acts.norm1.output, rows: N, into: du1)
      k.backward(dk, input: acts.norm1.output, rows: N, into: du1)
      v.backward(dv, input: acts.norm1.output, rows: N, into: du1)
    case .packed(let p):
      let packed = ws.get("vit.dqkv", N * 3 * C)
      for r in 0..<N {
        (packed + r * 3 * C).update(from: dq + r * C, count: C)
        (packed + r * 3 * C + C).update(from: dk + r * C, count: C)
        (packed + r * 3 * C + 2 * C).update(from: dv + r * C, count: C)
      }
      p.backward(packed, input: acts.norm1.output, rows: N, into: du1)
    }
    norm1.backward(du1, rows: N, saved: acts.norm1, into: dx)
    for i in 0..<(N * C) { dx[i] += dh[i] }
  }

  /// y = x + s ⊙ v (s per column, or 1).
  private func scaledResidual(
    _ x: UnsafePointer<T>, _ v: UnsafePointer<T>, scale: Parameter<T>?, rows: Int, dim: Int,
    into y: UnsafeMutablePointer<T>
  ) {
    guard let scale else {
      for i in 0..<(rows * dim) { y[i] = x[i] + v[i] }
      return
    }
    let s = scale.value.p
    for r in 0..<rows {
      for c in 0..<dim { y[r * dim + c] = x[r * dim + c] + s[c] * v[r * dim + c] }
    }
  }

  /// dv = s ⊙ dy (written) and ds += Σ_rows dy ⊙ v.
  private func scaleBackward(
    _ dy: UnsafePointer<T>, _ v: UnsafePointer<T>, scale: Parameter<T>?, rows: Int, dim: Int,
    into dv: UnsafeMutablePointer<T>
  ) {
    guard let scale else {
      dv.update(from: dy, count: rows * dim)
      return
    }
    let s = scale.value.p
    let ds = scale.grad.p
    for r in 0..<rows {
      for c in 0..<dim {
        let g = dy[r * dim + c]
        dv[r * dim + c] = s[c] * g
        ds[c] += g * v[r * dim + c]
      }
    }
  }
}

/// The family's vision tower with every tensor trainable.
final class VisionTower<T: Real>: @unchecked Sendable {
  let tileSize: Int
  let patch: Int
  let width: Int
  let patchEmbedding: DenseLinear<T>
  let classEmbedding: Parameter<T>
  let positionEmbedding: Parameter<T>
  /// CLIP's pre_layrnorm (InternViT has none).
  let preNorm: NormParameters<T>?
  let layers: [VisionLayer<T>]
  /// InternViT's pixel shuffle of the G×G grid into (G/2)² tokens of 4C.
  let pixelShuffle: Bool
  let eps: T

  var grid: Int { tileSize / patch }
  var tokens: Int { grid * grid + 1 }
  /// Feature rows and width per tile, as the projector reads them.
  var featuresPerTile: Int { pixelShuffle ? (grid / 2) * (grid / 2) : grid * grid }
  var featureWidth: Int { pixelShuffle ? 4 * width : width }
  var pixelsPerTile: Int { 3 * tileSize * tileSize }

  var parameters: [Parameter<T>] {
    var list = patchEmbedding.parameters + [classEmbedding, positionEmbedding]
    if let preNorm { list += preNorm.parameters }
    for layer in layers { list += layer.parameters }
    return list
  }

  /// Loads the tower of `family` from the checkpoint (CLIP under `vit.vision_tower.vision_model.`,
  /// InternViT under `vision_model.`).
  init(family: Family, config: ModelConfig, file: SafeTensorsFile) throws {
    let load = ParameterLoader(file: file)
    let vision = config.vision
    tileSize = config.imageSize
    patch = vision.patchSize
    width = vision.hiddenSize
    eps = T(vision.layerNormEps)
    let C = vision.hiddenSize
    let G = config.imageSize / vision.patchSize
    switch family {
    case .internLM2:
      let p = "vit.vision_tower.vision_model."
      patchEmbedding = try load.linear(p + "embeddings.patch_embedding", bias: false)
      classEmbedding = try load(p + "embeddings.class_embedding")
      positionEmbedding = try load(p + "embeddings.position_embedding.weight")
      preNorm = try load.norm(p + "pre_layrnorm")
      pixelShuffle = false
      let quick = vision.hiddenAct != "gelu"
      layers = try (0..<vision.layers).map { i in
        let l = p + "encoder.layers.\(i)."
        return VisionLayer(
          norm1: try load.norm(l + "layer_norm1"),
          qkv: .separate(
            try load.linear(l + "self_attn.q_proj"), try load.linear(l + "self_attn.k_proj"),
            try load.linear(l + "self_attn.v_proj")),
          projection: try load.linear(l + "self_attn.out_proj"),
          norm2: try load.norm(l + "layer_norm2"), fc1: try load.linear(l + "mlp.fc1"),
          fc2: try load.linear(l + "mlp.fc2"), layerScale1: nil, layerScale2: nil,
          quickGELU: quick, heads: vision.heads, eps: T(vision.layerNormEps))
      }
    case .phi3:
      let p = "vision_model."
      patchEmbedding = try load.linear(p + "embeddings.patch_embedding")
      classEmbedding = try load(p + "embeddings.class_embedding")
      positionEmbedding = try load(p + "embeddings.position_embedding")
      preNorm = nil
      pixelShuffle = true
      layers = try (0..<vision.layers).map { i in
        let l = p + "encoder.layers.\(i)."
        return VisionLayer(
          norm1: try load.norm(l + "norm1"),
          qkv: .packed(
            try load.linear(l + "attn.qkv", bias: load.contains(l + "attn.qkv.bias"))),
          projection: try load.linear(l + "attn.proj"),
          norm2: try load.norm(l + "norm2"), fc1: try load.linear(l + "mlp.fc1"),
          fc2: try load.linear(l + "mlp.fc2"), layerScale1: try load(l + "ls1"),
          layerScale2: try load(l + "ls2"), quickGELU: false, heads: vision.heads,
          eps: T(vision.layerNormEps))
      }
    default:
      throw TrainingError("training has no vision backward for the \(family) family")
    }
    guard classEmbedding.count == C, positionEmbedding.count == (G * G + 1) * C,
      patchEmbedding.inFeatures == 3 * patch * patch, patchEmbedding.out == C
    else {
      throw TrainingError(
        "the vision tower's embeddings do not fit \(tileSize)-pixel tiles of \(patch)-pixel patches at width \(C) (position table of \(positionEmbedding.count / max(C, 1)) rows, \(G * G + 1) needed)"
      )
    }
  }

  /// features [tiles·featuresPerTile, featureWidth] from pixels [tiles, 3, S, S].
  func forward(
    _ pixels: UnsafePointer<T>, tiles: Int, into features: UnsafeMutablePointer<T>,
    workspace ws: Workspace<T>
  ) {
    let N = tokens
    let C = width
    let acts = activations(ws)
    let x = ws.get("vit.x", N * C)
    for t in 0..<tiles {
      embed(pixels + t * pixelsPerTile, into: x, workspace: ws)
      for layer in layers {
        layer.forward(x, acts: acts, workspace: ws)
        x.update(from: acts.y, count: N * C)
      }
      output(x, into: features + t * featuresPerTile * featureWidth)
    }
  }

  /// Accumulates every parameter's gradient from d loss/d features (same layout as `forward`'s
  /// output), recomputing each tile's forward with its layer inputs kept.
  func backward(
    _ dFeatures: UnsafePointer<T>, pixels: UnsafePointer<T>, tiles: Int,
    workspace ws: Workspace<T>
  ) {
    let N = tokens
    let C = width
    let L = layers.count
    let G = grid
    let acts = activations(ws)
    // Layer inputs x_0 … x_L of one tile.
    let inputs = ws.get("vit.inputs", (L + 1) * N * C)
    var dx = ws.get("vit.dxa", N * C)
    var dNext = ws.get("vit.dxb", N * C)
    for t in 0..<tiles {
      let tile = pixels + t * pixelsPerTile
      embed(tile, into: inputs, workspace: ws)
      for l in 0..<L {
        layers[l].forward(inputs + l * N * C, acts: acts, workspace: ws)
        (inputs + (l + 1) * N * C).update(from: acts.y, count: N * C)
      }
      // d of the last layer's output: CLS row 0, patch rows from the features.
      dx.update(repeating: 0, count: N * C)
      let dOut = dFeatures + t * featuresPerTile * featureWidth
      if pixelShuffle {
        let half = G / 2
        for r in 0..<half {
          for c in 0..<half {
            let source = dOut + (r * half + c) * 4 * C
            for j in 0..<4 {
              (dx + (1 + shuffledCell(r, c, j)) * C).update(from: source + j * C, count: C)
            }
          }
        }
      } else {
        (dx + C).update(from: dOut, count: G * G * C)
      }
      for l in stride(from: L - 1, through: 0, by: -1) {
        let input = inputs + l * N * C
        layers[l].forward(input, acts: acts, workspace: ws)
        dNext.update(repeating: 0, count: N * C)
        layers[l].backward(dx, input: input, acts: acts, into: dNext, workspace: ws)
        swap(&dx, &dNext)
      }
      embedBackward(dx, pixels: tile, workspace: ws)
    }
  }

  private func activations(_ ws: Workspace<T>) -> VisionActivations<T> {
    VisionActivations(
      rows: tokens, width: width, intermediate: layers.first?.fc1.out ?? 0,
      heads: layers.first?.heads ?? 1, workspace: ws)
  }

  /// x_0 = [CLS; patches·Wᵀ (+ b)] + positions (then CLIP's pre_layrnorm).
  private func embed(
    _ pixels: UnsafePointer<T>, into x: UnsafeMutablePointer<T>, workspace ws: Workspace<T>
  ) {
    let N = tokens
    let C = width
    let patches = ws.get("vit.patches", (N - 1) * 3 * patch * patch)
    unfold(pixels, into: patches)
    patchEmbedding.forward(patches, rows: N - 1, into: x + C)
    x.update(from: classEmbedding.value.p, count: C)
    let position = positionEmbedding.value.p
    for i in 0..<(N * C) { x[i] += position[i] }
    if let preNorm {
      let embedded = ws.get("vit.embedded", N * C)
      embedded.update(from: x, count: N * C)
      layerNormForward(
        embedded, weight: preNorm.weight.value.p, bias: preNorm.bias.value.p, rows: N, dim: C,
        eps: eps, into: x, normalized: ws.get("vit.prexhat", N * C),
        inverse: ws.get("vit.preinv", N))
    }
  }

  /// The embedding's gradients from dx_0 (after `embed` ran on the same tile).
  private func embedBackward(
    _ dx: UnsafePointer<T>, pixels: UnsafePointer<T>, workspace ws: Workspace<T>
  ) {
    let N = tokens
    let C = width
    var d = dx
    if let preNorm {
      let dEmbedded = ws.get("vit.dembedded", N * C, zeroed: true)
      layerNormBackward(
        dx, normalized: ws.get("vit.prexhat", N * C), weight: preNorm.weight.value.p,
        inverse: ws.get("vit.preinv", N), rows: N, dim: C, into: dEmbedded,
        dWeight: preNorm.weight.grad.p, dBias: preNorm.bias.grad.p)
      d = UnsafePointer(dEmbedded)
    }
    let dPosition = positionEmbedding.grad.p
    for i in 0..<(N * C) { dPosition[i] += d[i] }
    let dClass = classEmbedding.grad.p
    for i in 0..<C { dClass[i] += d[i] }
    let patches = ws.get("vit.patches", (N - 1) * 3 * patch * patch)
    unfold(pixels, into: patches)
    patchEmbedding.backward(d + C, input: patches, rows: N - 1, into: nil)
  }

  /// [3, S, S] → [G², 3·P·P]: patches row-major over the grid, each (channel, y, x) like the
  /// Conv2d weight [C, 3, P, P].
  private func unfold(_ pixels: UnsafePointer<T>, into patches: UnsafeMutablePointer<T>) {
    let S = tileSize
    let P = patch
    let G = grid
    var o = 0
    for gy in 0..<G {
      for gx in 0..<G {
        for c in 0..<3 {
          for y in 0..<P {
            (patches + o).update(from: pixels + (c * S + gy * P + y) * S + gx * P, count: P)
            o += P
          }
        }
      }
    }
  }

  /// The grid cell of part j of shuffled token (r, c): (2r, 2c), (2r, 2c+1), (2r+1, 2c),
  /// (2r+1, 2c+1) for j = 0…3 (trol-engine.md §4.2).
  private func shuffledCell(_ r: Int, _ c: Int, _ j: Int) -> Int {
    (2 * r + j / 2) * grid + 2 * c + j % 2
  }

  /// The tower's output rows for the projector: CLS dropped, pixel-shuffled for InternViT.
  private func output(_ x: UnsafePointer<T>, into features: UnsafeMutablePointer<T>) {
    let C = width
    let G = grid
    guard pixelShuffle else {
      features.update(from: x + C, count: G * G * C)
      return
    }
    let half = G / 2
    for r in 0..<half {
      for c in 0..<half {
        let out = features + (r * half + c) * 4 * C
        for j in 0..<4 {
          (out + j * C).update(from: x + (1 + shuffledCell(r, c, j)) * C, count: C)
        }
      }
    }
  }
}
