import ArgumentParser
import Tensor
import TroL

/// How the engine holds and runs a checkpoint (`trolley ask`, `trolley worker`,
/// `trolley bench worker`): `--weights`, `--compute` (checked against `--weights`) and
/// `--traversal`.
struct EngineOptions: ParsableArguments {
  @Option(
    help:
      "Weight format in memory: f16 (the checkpoint's 16-bit, default), f32 (exact reference), q8, q4."
  )
  var weights: String = "f16"

  @Option(
    help:
      "How prefill and vision products multiply: f32 (exact, default), bf16 (needs --weights f16), int8 (needs --weights q8)."
  )
  var compute: String = "f32"

  @Option(
    help:
      "Where layers are traversed: all (every prompt position, the official code's behaviour), question (only the question's tokens; the system prompt and image run once), off (every layer once). Default: all, or off for a model whose config.json says trol_traversal: false."
  )
  var traversal: String?

  func validate() throws {
    guard let format = WeightFormat(rawValue: weights) else {
      throw ValidationError("--weights must be f16, f32, q8 or q4, got \(weights)")
    }
    guard let mode = ComputeMode(rawValue: compute) else {
      throw ValidationError("--compute must be f32, bf16 or int8, got '\(compute)'")
    }
    if let required = mode.requiredWeights, required != format {
      throw ValidationError(
        "--compute \(compute) needs --weights \(required.rawValue) (got \(weights))")
    }
    if let traversal, TraversalMode(rawValue: traversal) == nil {
      throw ValidationError("--traversal must be all, question or off, got '\(traversal)'")
    }
  }

  /// `--weights`, once validated.
  var weightFormat: WeightFormat { WeightFormat(rawValue: weights) ?? .f16 }
  /// `--compute`, once validated.
  var computeMode: ComputeMode { ComputeMode(rawValue: compute) ?? .f32 }
  /// `--traversal`, once validated; nil: the model's default (`ModelConfig.defaultTraversal`).
  var traversalMode: TraversalMode? { traversal.flatMap(TraversalMode.init(rawValue:)) }
}
