internal import Foundation

/// RMSNorm as Llama-family models compute it: y = x / sqrt(mean(x²) + eps) ⊙ weight, in f32.
///
/// - Parameters:
///   - y: `rows * dim` outputs (may equal `x`).
///   - x: `rows * dim` inputs, row-major.
///   - weight: `dim` gains.
public func rmsNorm(
  _ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
  rows: Int,
  dim: Int, eps: Float
) {
  precondition(dim % 8 == 0, "rmsNorm: dim \(dim) must be a multiple of 8")
  forEachRow(y, x, rows: rows, dim: dim) { yr, xr in
    let squares = laneSum(dim) { i in
      let v = load8(xr + i)
      return v * v
    }
    let inverse = 1 / (squares / Float(dim) + eps).squareRoot()
    forEachLane(dim) { i in store8(load8(xr + i) * inverse * load8(weight + i), yr + i) }
  }
}

/// The scalar definition of `rmsNorm`, kept as the reference the vector kernel is tested against.
public func rmsNormNaive(_ x: [Float], weight: [Float], rows: Int, eps: Float) -> [Float] {
  let dim = weight.count
  var y = [Float](repeating: 0, count: x.count)
  for r in 0..<rows {
    var sum: Double = 0
    for i in 0..<dim { sum += Double(x[r * dim + i]) * Double(x[r * dim + i]) }
    let inverse = 1 / (sum / Double(dim) + Double(eps)).squareRoot()
    for i in 0..<dim { y[r * dim + i] = Float(Double(x[r * dim + i]) * inverse) * weight[i] }
  }
  return y
}

/// LayerNorm over the last dimension: y = (x − mean) / sqrt(var + eps) ⊙ weight + bias, with the
/// biased variance, in f32.
///
/// - Parameters:
///   - y: `rows * dim` outputs (may equal `x`).
///   - x: `rows * dim` inputs, row-major.
///   - weight, bias: `dim` values each.
public func layerNorm(
  _ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
  bias: UnsafePointer<Float>, rows: Int, dim: Int, eps: Float
) {
  precondition(dim % 8 == 0, "layerNorm: dim \(dim) must be a multiple of 8")
  forEachRow(y, x, rows: rows, dim: dim) { yr, xr in
    let mean = laneSum(dim) { i in load8(xr + i) } / Float(dim)
    let squares = laneSum(dim) { i in
      let d = load8(xr + i) - mean
      return d * d
    }
    let inverse = 1 / (squares / Float(dim) + eps).squareRoot()
    forEachLane(dim) { i in
      store8((load8(xr + i) - mean) * inverse * load8(weight + i) + load8(bias + i), yr + i)
    }
  }
}

/// Calls `body` with each row's output and input (`dim` floats apart).
@inline(__always)
private func forEachRow(
  _ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, rows: Int, dim: Int,
  _ body: (UnsafeMutablePointer<Float>, UnsafePointer<Float>) -> Void
) {
  for r in 0..<rows { body(y + r * dim, x + r * dim) }
}

/// Calls `body` with offsets 0, 8, 16… below `dim` (a multiple of 8).
@inline(__always)
private func forEachLane(_ dim: Int, _ body: (Int) -> Void) {
  var i = 0
  while i < dim {
    body(i)
    i += 8
  }
}

/// The sum of `term(i)` over the offsets of `forEachLane`, accumulated lane-wise in one register
/// and reduced at the end (the order the norms' rounding depends on).
@inline(__always)
private func laneSum(_ dim: Int, _ term: (Int) -> Vector8) -> Float {
  var acc = Vector8()
  forEachLane(dim) { i in acc += term(i) }
  return acc.sum()
}

/// The scalar definition of `layerNorm` (in f64), the reference for tests.
public func layerNormNaive(_ x: [Float], weight: [Float], bias: [Float], rows: Int, eps: Float)
  -> [Float]
{
  let dim = weight.count
  var y = [Float](repeating: 0, count: x.count)
  for r in 0..<rows {
    let row = (0..<dim).map { Double(x[r * dim + $0]) }
    let mean = row.reduce(0, +) / Double(dim)
    let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(dim)
    let inverse = 1 / (variance + Double(eps)).squareRoot()
    for i in 0..<dim {
      y[r * dim + i] = Float((row[i] - mean) * inverse * Double(weight[i]) + Double(bias[i]))
    }
  }
  return y
}
