public import Tensor

/// A frozen weight W [out, in] in any storage format (f32, f16/bf16, q8, q4), used QLoRA-style:
/// the forward multiplies through the format's own kernel, the backward needs dx = dy·W, which
/// decodes W to the run's precision a panel of rows at a time and hands it to BLAS.
public final class FrozenMatrix: @unchecked Sendable {
  public let weight: any LinearWeight
  public var out: Int { weight.outFeatures }
  public var inFeatures: Int { weight.inFeatures }
  /// Rows decoded per panel in the transposed product (bounds the panel's memory).
  static let panelRows = 128
  private let matmul = MatmulScratch()

  public init(_ weight: any LinearWeight) { self.weight = weight }

  /// y[N, out] = x·Wᵀ (+ y when `accumulate`).
  func forward<T: Real>(
    _ x: UnsafePointer<T>, rows: Int, into y: UnsafeMutablePointer<T>, accumulate: Bool,
    workspace: Workspace<T>
  ) {
    if rows == 0 { return }
    if T.self == Float.self {
      // The format's own product, exactly what inference computes.
      let xf = UnsafeRawPointer(x).assumingMemoryBound(to: Float.self)
      let yf = UnsafeMutableRawPointer(y).assumingMemoryBound(to: Float.self)
      ProductCounter.add(rows, out, inFeatures)
      weight.multiply(xf, rows: rows, into: yf, accumulate: accumulate, scratch: matmul)
      return
    }
    forEachPanel(workspace) { panel, start, count in
      // y[:, start..<start+count] = x·Wpanelᵀ
      T.gemm(
        transA: false, transB: true, m: rows, n: count, k: inFeatures, alpha: 1, x,
        lda: inFeatures, panel, ldb: inFeatures, beta: accumulate ? 1 : 0, y + start, ldc: out)
    }
  }

  /// dx[N, in] += alpha·dy[N, out]·W.
  func backwardInput<T: Real>(
    _ dy: UnsafePointer<T>, rows: Int, into dx: UnsafeMutablePointer<T>, alpha: T = 1,
    workspace: Workspace<T>
  ) {
    if rows == 0 { return }
    if T.self == Float.self, let f32 = weight as? F32Weight {
      let dyf = UnsafeRawPointer(dy).assumingMemoryBound(to: Float.self)
      let dxf = UnsafeMutableRawPointer(dx).assumingMemoryBound(to: Float.self)
      matmulBackwardInput(
        dyf, f32.values.baseAddress!, rows: rows, out: out, in: inFeatures, into: dxf,
        alpha: Float(alpha))
      return
    }
    forEachPanel(workspace) { panel, start, count in
      // dx += dy[:, panel]·Wpanel
      T.gemm(
        transA: false, transB: false, m: rows, n: inFeatures, k: count, alpha: alpha, dy + start,
        lda: out, panel, ldb: inFeatures, beta: 1, dx, ldc: inFeatures)
    }
  }

  /// Calls `body` with W decoded to T a panel of `panelRows` rows at a time (the panel, its first
  /// row and its row count), top to bottom, in one workspace buffer.
  private func forEachPanel<T: Real>(
    _ workspace: Workspace<T>,
    _ body: (_ panel: UnsafeMutablePointer<T>, _ start: Int, _ count: Int) -> Void
  ) {
    let panel = workspace.get("frozen.panel", FrozenMatrix.panelRows * inFeatures)
    var start = 0
    while start < out {
      let count = min(FrozenMatrix.panelRows, out - start)
      decode(rows: start..<(start + count), into: panel)
      body(panel, start, count)
      start += count
    }
  }

  /// W's rows widened to T, row-major.
  func decode<T: Real>(rows: Range<Int>, into panel: UnsafeMutablePointer<T>) {
    let n = inFeatures
    if T.self == Float.self {
      let pf = UnsafeMutableRawPointer(panel).assumingMemoryBound(to: Float.self)
      for (i, r) in rows.enumerated() { weight.copyRow(r, into: pf + i * n) }
      return
    }
    let row = UnsafeMutablePointer<Float>.allocate(capacity: n)
    defer { row.deallocate() }
    for (i, r) in rows.enumerated() {
      weight.copyRow(r, into: row)
      for c in 0..<n { panel[i * n + c] = T(row[c]) }
    }
  }

  /// W widened to f32, [out, in] row-major.
  public func dense() -> [Float] {
    var values = [Float](repeating: 0, count: out * inFeatures)
    values.withUnsafeMutableBufferPointer { b in
      for r in 0..<out { weight.copyRow(r, into: b.baseAddress! + r * inFeatures) }
    }
    return values
  }
}
