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
  for r in 0..<rows {
    let xr = x + r * dim
    let yr = y + r * dim
    var acc = Vector8()
    var i = 0
    while i < dim {
      let v = load8(xr + i)
      acc += v * v
      i += 8
    }
    let inverse = 1 / (acc.sum() / Float(dim) + eps).squareRoot()
    i = 0
    while i < dim {
      store8(load8(xr + i) * inverse * load8(weight + i), yr + i)
      i += 8
    }
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
  for r in 0..<rows {
    let xr = x + r * dim
    let yr = y + r * dim
    var acc = Vector8()
    var i = 0
    while i < dim {
      acc += load8(xr + i)
      i += 8
    }
    let mean = acc.sum() / Float(dim)
    var squares = Vector8()
    i = 0
    while i < dim {
      let d = load8(xr + i) - mean
      squares += d * d
      i += 8
    }
    let inverse = 1 / (squares.sum() / Float(dim) + eps).squareRoot()
    i = 0
    while i < dim {
      store8((load8(xr + i) - mean) * inverse * load8(weight + i) + load8(bias + i), yr + i)
      i += 8
    }
  }
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
