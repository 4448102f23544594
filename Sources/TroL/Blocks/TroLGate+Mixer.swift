internal import Foundation
internal import Tensor

extension TroLGate {
  /// w = 0.5·tanh(g·a + c) + 0.5 for one token row a of D floats (the TroL-Mixer's weight).
  @inline(__always)
  func value(_ a: UnsafePointer<Float>) -> Float {
    let z = weight.withUnsafeBufferPointer { dot(a, $0.baseAddress!, count: $0.count) } + bias
    return 0.5 * tanh(z) + 0.5
  }
}
