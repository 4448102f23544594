public import Tensor

/// y = x·Wᵀ + b: a weight in any format plus an optional f32 bias.
public struct Linear: Sendable {
  /// W [out, in].
  public let weight: any LinearWeight
  /// b [out], or nil for bias-free projections.
  public let bias: [Float]?

  public init(weight: any LinearWeight, bias: [Float]?) {
    precondition(
      bias == nil || bias!.count == weight.outFeatures,
      "Linear: bias of \(bias!.count) for \(weight.outFeatures) outputs")
    self.weight = weight
    self.bias = bias
  }

  /// Loads `<prefix>.weight` [out, in] and, if `hasBias`, `<prefix>.bias` [out].
  init(_ loader: WeightLoader, _ prefix: String, out: Int, in inFeatures: Int, hasBias: Bool) throws
  {
    self.weight = try loader.linear(prefix + ".weight", out: out, in: inFeatures)
    self.bias = hasBias ? try loader.floats(prefix + ".bias", shape: [out]) : nil
  }

  public var outFeatures: Int { weight.outFeatures }
  public var inFeatures: Int { weight.inFeatures }

  /// y[rows, out] = x[rows, in]·Wᵀ + b.
  public func callAsFunction(
    _ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>,
    scratch: MatmulScratch
  ) {
    weight.multiply(x, rows: rows, into: y, accumulate: false, scratch: scratch)
    if let bias {
      bias.withUnsafeBufferPointer {
        addBias(y, bias: $0.baseAddress!, rows: rows, dim: weight.outFeatures)
      }
    }
  }
}
