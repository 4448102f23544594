internal import Foundation
internal import Tensor

/// The TroL-Mixer's gate: one Linear(D → 1) shared by every layer in the released checkpoints,
/// w = 0.5·tanh(g·a + c) + 0.5 for each token's first-pass output a.
public struct TroLGate: Sendable {
  /// g [D] (`trol_gating.pt`, key `{i}.weight` [1, D], the same storage for every i).
  public let weight: [Float]
  /// c (`{i}.bias` [1]).
  public let bias: Float

  public init(weight: [Float], bias: Float) {
    self.weight = weight
    self.bias = bias
  }

  /// w for one token row of `weight.count` floats.
  @inline(__always)
  func value(_ a: UnsafePointer<Float>) -> Float {
    let z = weight.withUnsafeBufferPointer { dot(a, $0.baseAddress!, count: $0.count) } + bias
    return 0.5 * tanh(z) + 0.5
  }
}
