/// One training example: the whole sequence (prompt + answer + suffix), its labels (−100 on the
/// prompt), and the frozen vision tower's features for its image rows, in order.
public struct TrainingSample: Sendable {
  public var ids: [Int]
  public var labels: [Int]
  /// [imageRows, C] row-major (C = the projector's input width); empty without an image.
  public var visionFeatures: [Float]
  /// The preprocessed image, [tiles, 3, S, S], for runs that train the vision tower (`all`),
  /// which computes the features itself; empty otherwise.
  public var pixels: [Float]
  /// Several questions on one image in one sequence (nil: one plain causal sequence).
  public var packing: SamplePacking?

  public init(
    ids: [Int], labels: [Int], visionFeatures: [Float], pixels: [Float] = [],
    packing: SamplePacking? = nil
  ) {
    self.ids = ids
    self.labels = labels
    self.visionFeatures = visionFeatures
    self.pixels = pixels
    self.packing = packing
  }

  /// Positions t whose logits are scored: labels[t + 1] ≠ −100 (the official shift).
  public var scoredRows: [Int] {
    ids.count < 2 ? [] : (0..<(ids.count - 1)).filter { labels[$0 + 1] != -100 }
  }
}

/// What one forward and backward over a sample produced.
public struct SampleResult: Sendable {
  /// Σ of the per-token cross-entropies (divide by the batch's kept tokens for the loss).
  public var lossSum: Double
  public var perToken: [Double]
  /// d loss / d vision features, [imageRows, C], when requested.
  public var visionFeatureGradient: [Float]?
}

/// Runs forwards and backwards over samples for one model, reusing its buffers.
public final class TrainingRunner<T: Real>: @unchecked Sendable {
  public let model: TrainingModel<T>
  let ws = Workspace<T>()
  /// Layer inputs x_0 … x_L, each [N, D], kept between the forward and the backward.
  private var layerInputs: [Buffer<T>] = []

  public init(model: TrainingModel<T>) { self.model = model }

  /// Zeroes every gradient of the model's parameters.
  @_specialize(where T == Float)
  public func zeroGradients() {
    for p in model.allParameters { p.grad.zero() }
  }

  /// The loss sum of `sample` without gradients (no activations kept beyond a layer).
  @_specialize(where T == Float)
  public func loss(_ sample: TrainingSample) throws -> SampleResult {
    try run(sample, normalizer: 1, backward: false, wantVisionGradient: false)
  }

  /// Forward and backward over `sample`; parameter gradients accumulate (+=), each token's loss
  /// divided by `normalizer` (the batch's kept-token count, so the gradients are of the mean).
  @_specialize(where T == Float)
  public func accumulate(
    _ sample: TrainingSample, normalizer: Int, wantVisionGradient: Bool = false
  ) throws -> SampleResult {
    try run(sample, normalizer: normalizer, backward: true, wantVisionGradient: wantVisionGradient)
  }

  private func run(
    _ sample: TrainingSample, normalizer: Int, backward: Bool, wantVisionGradient: Bool
  ) throws -> SampleResult {
    let m = model
    let g = m.geometry
    let N = sample.ids.count
    let D = g.hidden
    let C = m.projector.inputWidth
    let L = m.layers.count
    let V = m.vocabulary
    guard sample.labels.count == N, N >= 2 else {
      throw TrainingError(
        "a sample needs at least 2 ids and one label per id (got \(N) ids, \(sample.labels.count) labels)"
      )
    }
    let imageRows = (0..<N).filter { sample.ids[$0] == m.imageTokenID }
    let tower = imageRows.isEmpty ? nil : m.visionTower
    var tiles = 0
    if let tower {
      tiles = sample.pixels.count / tower.pixelsPerTile
      guard sample.pixels.count == tiles * tower.pixelsPerTile,
        tiles * tower.featuresPerTile == imageRows.count
      else {
        throw TrainingError(
          "the sample has \(imageRows.count) image tokens and \(sample.pixels.count) pixel values; the `all` set trains the vision tower, so samples need the preprocessed image (\(tower.featuresPerTile) image tokens per 3×\(tower.tileSize)×\(tower.tileSize) tile): build them with SampleBuilder(pixels: true)"
        )
      }
    } else {
      guard sample.visionFeatures.count == imageRows.count * C else {
        throw TrainingError(
          "the sample has \(imageRows.count) image tokens but \(sample.visionFeatures.count / max(C, 1)) vision feature rows of width \(C)"
        )
      }
    }
    for id in sample.ids where id < 0 || id >= m.embedding.out {
      throw TrainingError("token id \(id) is outside the embedding table (\(m.embedding.out) rows)")
    }
    let scored = sample.scoredRows
    for t in scored where sample.labels[t + 1] < 0 || sample.labels[t + 1] >= V {
      throw TrainingError(
        "label \(sample.labels[t + 1]) at position \(t + 1) is outside the vocabulary (\(V))")
    }
    while layerInputs.count < L + 1 || layerInputs[0].count < N * D {
      layerInputs = (0...L).map { _ in Buffer<T>(N * D) }
    }
    // Embeddings, image rows overwritten by the projected features (official merge order).
    let x0 = layerInputs[0].p
    let features = ws.get("features", imageRows.count * C)
    let pixels = ws.get("pixels", sample.pixels.count)
    if let tower {
      for i in 0..<sample.pixels.count { pixels[i] = T(sample.pixels[i]) }
      tower.forward(pixels, tiles: tiles, into: features, workspace: ws)
    } else {
      for i in 0..<sample.visionFeatures.count { features[i] = T(sample.visionFeatures[i]) }
    }
    let projected = ws.get("projected", imageRows.count * D)
    if !imageRows.isEmpty {
      m.projector.forward(features, rows: imageRows.count, into: projected, workspace: ws)
    }
    var imageIndex = 0
    for t in 0..<N {
      if sample.ids[t] == m.imageTokenID {
        (x0 + t * D).update(from: projected + imageIndex * D, count: D)
        imageIndex += 1
      } else if let table = m.embeddingParameter {
        (x0 + t * D).update(from: table.value.p + sample.ids[t] * D, count: D)
      } else {
        m.embedding.decode(rows: sample.ids[t]..<(sample.ids[t] + 1), into: x0 + t * D)
      }
    }
    // Rotary table, a row per token at its position (0..<N unless packed); LongRoPE picks its
    // factors from the length of the sequence each question sees.
    let Dh = g.headDim
    let rope = ws.get("rope", N * Dh)
    let positions = sample.packing?.positions(rows: N)
    let length = sample.packing?.longestQuestionSequence(rows: N) ?? N
    ropeTable(
      inverseFrequencies: length > m.originalMaxPositions ? m.longFrequencies : m.shortFrequencies,
      magnitude: m.ropeMagnitude, positions: N, rowPositions: positions, into: rope)
    let mask = sample.packing.map { AttentionMask(packing: $0, rows: N) }
    let gates = ws.get("gates", N)
    let first = PassActivations(tag: "p0", rows: N, geometry: g, workspace: ws)
    let second = PassActivations(tag: "p1", rows: N, geometry: g, workspace: ws)
    for l in 0..<L {
      layerPasses(
        l, rows: N, first: first, second: second, imageRows: imageRows, rope: rope, mask: mask,
        gates: gates)
      mix(rows: N, first: first, second: second, gates: gates, into: layerInputs[l + 1].p)
    }
    // Final norm and LM head on the scored rows only.
    let M = scored.count
    let hidden = ws.get("final.x", M * D)
    for (i, t) in scored.enumerated() {
      (hidden + i * D).update(from: layerInputs[L].p + t * D, count: D)
    }
    let normed = ws.get("final.u", M * D)
    let inverse = ws.get("final.inv", M)
    rmsNormForward(
      hidden, weight: m.finalNorm.value.p, rows: M, dim: D, eps: g.eps, into: normed,
      inverse: inverse)
    let logits = ws.get("logits", M * V)
    if let head = m.headParameter {
      matmulForward(normed, head.value.p, rows: M, out: V, in: D, into: logits)
    } else {
      m.head.forward(normed, rows: M, into: logits, accumulate: false, workspace: ws)
    }
    var perToken: [Double] = []
    let targets = scored.map { sample.labels[$0 + 1] }
    let lossSum = crossEntropy(
      logits, rows: M, vocabulary: V, targets: targets, normalizer: T(max(normalizer, 1)),
      perRow: &perToken)
    guard backward else { return SampleResult(lossSum: lossSum, perToken: perToken) }

    // Backward: LM head and final norm into dX [N, D] (zero on rows that are not scored).
    let dnormed = ws.get("final.du", M * D, zeroed: true)
    if let head = m.headParameter {
      matmulBackwardInput(logits, head.value.p, rows: M, out: V, in: D, into: dnormed)
      matmulBackwardWeight(logits, normed, rows: M, out: V, in: D, into: head.grad.p)
    } else {
      m.head.backwardInput(logits, rows: M, into: dnormed, workspace: ws)
    }
    let dhidden = ws.get("final.dx", M * D, zeroed: true)
    rmsNormBackward(
      dnormed, x: hidden, weight: m.finalNorm.value.p, inverse: inverse, rows: M, dim: D,
      into: dhidden, dWeight: m.trainsEverything ? m.finalNorm.grad.p : nil)
    var dX = ws.get("dX.a", N * D, zeroed: true)
    var dNext = ws.get("dX.b", N * D)
    for (i, t) in scored.enumerated() { (dX + t * D).update(from: dhidden + i * D, count: D) }
    let da = ws.get("da", N * D)
    let db = ws.get("db", N * D)
    for l in stride(from: L - 1, through: 0, by: -1) {
      // Recompute this layer's two passes from its stored input.
      layerPasses(
        l, rows: N, first: first, second: second, imageRows: imageRows, rope: rope, mask: mask,
        gates: gates)
      let layer = m.layers[l]
      if m.traversal {
        let a = first.y
        let b = second.y
        var dc: T = 0
        let gw = m.gateWeight.value.p
        let dg = m.gateWeight.grad.p
        for r in 0..<N {
          let w = gates[r]
          var dw: T = 0
          for i in 0..<D { dw += (b[r * D + i] - a[r * D + i]) * dX[r * D + i] }
          let dz = dw * 2 * w * (1 - w)
          dc += dz
          for i in 0..<D {
            let dy = dX[r * D + i]
            db[r * D + i] = w * dy
            da[r * D + i] = (1 - w) * dy + dz * gw[i]
            dg[i] += dz * a[r * D + i]
          }
        }
        m.gateBias.grad.p[0] += dc
        layer.backward(
          db, input: a, acts: second, imageRows: imageRows, rope: rope, into: da, workspace: ws)
      } else {
        da.update(from: dX, count: N * D)
      }
      dNext.update(repeating: 0, count: N * D)
      layer.backward(
        da, input: layerInputs[l].p, acts: first, imageRows: imageRows, rope: rope, into: dNext,
        workspace: ws)
      swap(&dX, &dNext)
    }
    // Text rows flow into the embedding table (when it trains), image rows into the projector.
    if let table = m.embeddingParameter {
      for t in 0..<N where sample.ids[t] != m.imageTokenID {
        let row = table.grad.p + sample.ids[t] * D
        let source = dX + t * D
        for i in 0..<D { row[i] += source[i] }
      }
    }
    var visionGradient: [Float]? = nil
    if !imageRows.isEmpty {
      let dprojected = ws.get("dprojected", imageRows.count * D)
      for (i, t) in imageRows.enumerated() {
        (dprojected + i * D).update(from: dX + t * D, count: D)
      }
      // The projector's activations are recomputed: the layers' workspace use left them intact,
      // but recomputing keeps the contract simple.
      m.projector.forward(features, rows: imageRows.count, into: projected, workspace: ws)
      let dfeatures = ws.get("dfeatures", imageRows.count * C)
      m.projector.backward(
        dprojected, input: features, rows: imageRows.count, dx: dfeatures, workspace: ws)
      if wantVisionGradient {
        visionGradient = (0..<(imageRows.count * C)).map { Float(dfeatures[$0]) }
      }
      tower?.backward(dfeatures, pixels: pixels, tiles: tiles, workspace: ws)
    }
    return SampleResult(lossSum: lossSum, perToken: perToken, visionFeatureGradient: visionGradient)
  }

  /// a = L(x_l) into `first`, b = L(a) into `second`, and the gate w per row.
  private func layerPasses(
    _ l: Int, rows N: Int, first: PassActivations<T>, second: PassActivations<T>, imageRows: [Int],
    rope: UnsafePointer<T>, mask: AttentionMask?, gates: UnsafeMutablePointer<T>
  ) {
    let m = model
    let D = m.geometry.hidden
    let layer = m.layers[l]
    layer.forward(
      layerInputs[l].p, acts: first, imageRows: imageRows, rope: rope, mask: mask, workspace: ws)
    guard m.traversal else { return }
    layer.forward(
      first.y, acts: second, imageRows: imageRows, rope: rope, mask: mask, workspace: ws)
    let gw = m.gateWeight.value.p
    let c = m.gateBias.value.p[0]
    for r in 0..<N {
      var z = c
      for i in 0..<D { z += first.y[r * D + i] * gw[i] }
      gates[r] = T(0.5) * T.tanhyp(z) + T(0.5)
    }
  }

  /// x_{l+1} = (1 − w)·a + w·b (or a without traversal).
  private func mix(
    rows N: Int, first: PassActivations<T>, second: PassActivations<T>,
    gates: UnsafePointer<T>, into y: UnsafeMutablePointer<T>
  ) {
    let D = model.geometry.hidden
    guard model.traversal else {
      y.update(from: first.y, count: N * D)
      return
    }
    for r in 0..<N {
      let w = gates[r]
      for i in 0..<D { y[r * D + i] = (1 - w) * first.y[r * D + i] + w * second.y[r * D + i] }
    }
  }
}
