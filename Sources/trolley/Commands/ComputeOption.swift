import ArgumentParser
import Tensor

/// `--compute f32|bf16|int8` (ask, worker, bench worker): checked against `--weights`.
enum ComputeOption {
  static func check(_ compute: String, weights: WeightFormat) throws {
    guard let mode = ComputeMode(rawValue: compute) else {
      throw ValidationError("--compute must be f32, bf16 or int8, got '\(compute)'")
    }
    if let required = mode.requiredWeights, required != weights {
      throw ValidationError(
        "--compute \(compute) needs --weights \(required.rawValue) (got \(weights.rawValue))")
    }
  }
}
