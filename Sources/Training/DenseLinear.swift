internal import TroL

/// A trainable linear layer y = x·Wᵀ + b (W [out, in], b [out] or none), in the run's precision:
/// the vision tower's projections when the `all` set trains it.
struct DenseLinear<T: Real> {
  let weight: Parameter<T>
  let bias: Parameter<T>?
  let out: Int
  let inFeatures: Int

  /// W is stored [out, in] (or [out, c, p, p] for a patch convolution: the same row-major values).
  init(weight: Parameter<T>, bias: Parameter<T>?) {
    self.weight = weight
    self.bias = bias
    out = weight.shape[0]
    inFeatures = weight.count / out
  }

  var parameters: [Parameter<T>] { [weight] + (bias.map { [$0] } ?? []) }

  /// y[N, out] = x[N, in]·Wᵀ + b.
  func forward(_ x: UnsafePointer<T>, rows: Int, into y: UnsafeMutablePointer<T>) {
    matmulForward(x, weight.value.p, rows: rows, out: out, in: inFeatures, into: y)
    if let bias { addBiasRows(y, bias.value.p, rows: rows, dim: out) }
  }

  /// dW += dyᵀ·x, db += Σ dy, and dx += dy·W when `dx` is given.
  func backward(
    _ dy: UnsafePointer<T>, input x: UnsafePointer<T>, rows: Int, into dx: UnsafeMutablePointer<T>?
  ) {
    matmulBackwardWeight(dy, x, rows: rows, out: out, in: inFeatures, into: weight.grad.p)
    if let bias { biasBackward(dy, rows: rows, dim: out, into: bias.grad.p) }
    if let dx {
      matmulBackwardInput(dy, weight.value.p, rows: rows, out: out, in: inFeatures, into: dx)
    }
  }
}

/// A trainable LayerNorm's weight and bias.
struct NormParameters<T: Real> {
  let weight: Parameter<T>
  let bias: Parameter<T>
  var parameters: [Parameter<T>] { [weight, bias] }
}

/// Loads checkpoint tensors as trainable parameters, in the checkpoint's own shape and name.
struct ParameterLoader {
  let file: SafeTensorsFile

  func callAsFunction<T: Real>(_ name: String) throws -> Parameter<T> {
    let shape = try file.info(name).shape
    return Parameter(name: name, shape: shape, values: try file.floats(name).map { T($0) })
  }

  func linear<T: Real>(_ module: String, bias: Bool = true) throws -> DenseLinear<T> {
    DenseLinear(
      weight: try self(module + ".weight"), bias: bias ? try self(module + ".bias") : nil)
  }

  func norm<T: Real>(_ module: String) throws -> NormParameters<T> {
    NormParameters(weight: try self(module + ".weight"), bias: try self(module + ".bias"))
  }

  func contains(_ name: String) -> Bool { file.contains(name) }
}
