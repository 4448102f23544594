/// A trainable tensor: its values, its gradient and its name as the goldens and exports spell it
/// (official names such as `vision_proj.0.weight`, or `lora/<module>.A` for adapters).
public final class Parameter<T: Real>: @unchecked Sendable {
  public let name: String
  public let shape: [Int]
  public let value: Buffer<T>
  public let grad: Buffer<T>

  public init(name: String, shape: [Int], values: [T]) {
    precondition(
      values.count == shape.reduce(1, *), "Parameter \(name): \(values.count) values for \(shape)")
    self.name = name
    self.shape = shape
    value = Buffer(values)
    grad = Buffer(values.count)
  }

  public var count: Int { value.count }
}

/// LoRA on one linear layer: y += (α/r)·B(A x), A [r, in] and B [out, r] trainable in f32/f64.
public final class LoRAAdapter<T: Real>: @unchecked Sendable {
  /// The adapted module's path, e.g. `model.layers.0.attention.wqkv`.
  public let module: String
  public let rank: Int
  public let alpha: Double
  public let a: Parameter<T>
  public let b: Parameter<T>
  public var scale: T { T(alpha / Double(rank)) }

  public init(module: String, rank: Int, alpha: Double, a: [T], b: [T], in inF: Int, out: Int) {
    self.module = module
    self.rank = rank
    self.alpha = alpha
    self.a = Parameter(name: "lora/\(module).A", shape: [rank, inF], values: a)
    self.b = Parameter(name: "lora/\(module).B", shape: [out, rank], values: b)
  }
}

/// A decoder linear layer as training sees it: the frozen base, InternLM2's frozen Partial LoRA on
/// image rows, and an optional trainable LoRA around the base.
final class AdaptedLinear<T: Real>: @unchecked Sendable {
  /// The module path (`model.layers.0.attention.wqkv`, `language_model.model.layers.0.self_attn.qkv_proj`).
  let module: String
  let base: FrozenMatrix
  /// PLoRA A [R, in] and B [out, R] (scale 1), image rows only.
  let plora: (a: FrozenMatrix, b: FrozenMatrix)?
  var lora: LoRAAdapter<T>?
  /// The base as a trainable f32/f64 tensor (the `all` set); the frozen `base` is unused then.
  var trainableBase: Parameter<T>?

  /// False when PLoRA's B is all zeros (a model trained from scratch keeps the released layout's
  /// r = 256 PLoRA frozen at B = 0): its contribution and its input gradient are then exactly
  /// zero, and skipping its products (most of an image token's work at r = 256) changes nothing.
  let ploraActive: Bool

  init(module: String, base: FrozenMatrix, plora: (a: FrozenMatrix, b: FrozenMatrix)?) {
    self.module = module
    self.base = base
    self.plora = plora
    ploraActive = plora.map { !Self.isZero($0.b) } ?? false
  }

  private static func isZero(_ matrix: FrozenMatrix) -> Bool {
    let n = matrix.inFeatures
    guard n > 0 else { return true }
    let row = UnsafeMutablePointer<Float>.allocate(capacity: n)
    defer { row.deallocate() }
    for r in 0..<matrix.out {
      matrix.decode(rows: r..<(r + 1), into: row)
      for c in 0..<n where row[c] != 0 { return false }
    }
    return true
  }

  var out: Int { base.out }
  var inFeatures: Int { base.inFeatures }

  /// Copies `rows` of `matrix` (each `width` wide), in order, into `gathered`: PLoRA runs only
  /// on the image rows, packed together.
  private static func gather(
    _ rows: [Int], of matrix: UnsafePointer<T>, width: Int, into gathered: UnsafeMutablePointer<T>
  ) {
    for (i, row) in rows.enumerated() {
      (gathered + i * width).update(from: matrix + row * width, count: width)
    }
  }

  /// Adds packed row i of `packed` onto row `rows[i]` of `matrix`: the inverse of `gather`,
  /// accumulating.
  private static func scatterAdd(
    _ packed: UnsafePointer<T>, to rows: [Int], of matrix: UnsafeMutablePointer<T>, width: Int
  ) {
    for (i, row) in rows.enumerated() {
      let target = matrix + row * width
      let source = packed + i * width
      for c in 0..<width { target[c] += source[c] }
    }
  }

  /// y[N, out] = W x + (α/r)·B(A x) + [image rows] B'(A' x).
  func forward(
    _ x: UnsafePointer<T>, rows N: Int, imageRows: [Int], into y: UnsafeMutablePointer<T>,
    workspace ws: Workspace<T>
  ) {
    if let trainableBase {
      matmulForward(x, trainableBase.value.p, rows: N, out: out, in: inFeatures, into: y)
    } else {
      base.forward(x, rows: N, into: y, accumulate: false, workspace: ws)
    }
    if let lora {
      let r = lora.rank
      let t = ws.get("lora.t", N * r)
      matmulForward(x, lora.a.value.p, rows: N, out: r, in: inFeatures, into: t)
      T.gemm(
        transA: false, transB: true, m: N, n: out, k: r, alpha: lora.scale, t, lda: r,
        lora.b.value.p, ldb: r, beta: 1, y, ldc: out)
    }
    if let plora, ploraActive, !imageRows.isEmpty {
      let n = imageRows.count
      let R = plora.a.out
      let gathered = ws.get("plora.x", n * inFeatures)
      Self.gather(imageRows, of: x, width: inFeatures, into: gathered)
      let low = ws.get("plora.low", n * R)
      plora.a.forward(gathered, rows: n, into: low, accumulate: false, workspace: ws)
      let high = ws.get("plora.y", n * out)
      plora.b.forward(low, rows: n, into: high, accumulate: false, workspace: ws)
      Self.scatterAdd(high, to: imageRows, of: y, width: out)
    }
  }

  /// dx += d/dx, and the LoRA gradients (+=), given the forward's input x.
  func backward(
    _ dy: UnsafePointer<T>, input x: UnsafePointer<T>, rows N: Int, imageRows: [Int],
    into dx: UnsafeMutablePointer<T>, workspace ws: Workspace<T>
  ) {
    if let trainableBase {
      matmulBackwardInput(dy, trainableBase.value.p, rows: N, out: out, in: inFeatures, into: dx)
      matmulBackwardWeight(dy, x, rows: N, out: out, in: inFeatures, into: trainableBase.grad.p)
    } else {
      base.backwardInput(dy, rows: N, into: dx, workspace: ws)
    }
    if let lora {
      let r = lora.rank
      let s = lora.scale
      let t = ws.get("lora.t", N * r)
      matmulForward(x, lora.a.value.p, rows: N, out: r, in: inFeatures, into: t)
      // dB += s·dyᵀ·t
      matmulBackwardWeight(dy, t, rows: N, out: out, in: r, into: lora.b.grad.p, alpha: s)
      // dt = s·dy·B
      let dt = ws.get("lora.dt", N * r)
      matmulBackwardInput(
        dy, lora.b.value.p, rows: N, out: out, in: r, into: dt, accumulate: false, alpha: s)
      // dA += dtᵀ·x; dx += dt·A
      matmulBackwardWeight(dt, x, rows: N, out: r, in: inFeatures, into: lora.a.grad.p)
      matmulBackwardInput(dt, lora.a.value.p, rows: N, out: r, in: inFeatures, into: dx)
    }
    if let plora, ploraActive, !imageRows.isEmpty {
      let n = imageRows.count
      let R = plora.a.out
      let gathered = ws.get("plora.dy", n * out)
      Self.gather(imageRows, of: dy, width: out, into: gathered)
      let low = ws.get("plora.dlow", n * R, zeroed: true)
      plora.b.backwardInput(gathered, rows: n, into: low, workspace: ws)
      let back = ws.get("plora.dx", n * inFeatures, zeroed: true)
      plora.a.backwardInput(low, rows: n, into: back, workspace: ws)
      Self.scatterAdd(back, to: imageRows, of: dx, width: inFeatures)
    }
  }
}
