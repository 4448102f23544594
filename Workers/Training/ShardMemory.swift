import Foundation
public import Training
import TroL
public import TrolleyJobContracts

/// What a `train.shard` (or `train.eval`) needs in memory, declared in its payload as
/// `memory_bytes` so that a worker without that much does not claim it (docs/training-runs.md,
/// "Memory-aware claims"). A deliberately plain upper estimate:
///
/// - the checkpoint's tensors twice in the training format: the training model and the sample
///   builder's engine each hold every weight, as f32 (4 bytes an element; the training model
///   loads f32 whatever the checkpoint's dtype);
/// - 16 bytes per trainable element: value, gradient and AdamW's two moments, all f32;
/// - activations for a sequence of `sequenceAllowance` tokens: each layer's input kept, one
///   layer's recomputed passes (about 12 rows of width D) and the logits of the scored rows;
/// - the process itself (`processOverhead`).
public enum ShardMemory {
  public static let sequenceAllowance = 1024
  public static let processOverhead: Int64 = 256 << 20

  /// The estimate for `settings` with its model loaded (trainable set and LoRA applied).
  public static func estimate(_ settings: TrainingRunSettings, model: TrainingModel<Float>)
    throws -> Int64
  {
    let weights = try checkpointElements(settings.model)
    let trainable = model.parameters(try DiLoCoRound.trainableSet(settings)).reduce(0) {
      $0 + $1.count
    }
    let s = Int64(sequenceAllowance)
    let d = Int64(model.hidden)
    let activations =
      s * d * 4 * Int64(model.layerCount) + s * d * 12 * 4 + s * Int64(model.vocabulary) * 4
    return 2 * 4 * weights + 16 * Int64(trainable) + activations + processOverhead
  }

  /// Elements of every tensor in the folder's safetensors files.
  static func checkpointElements(_ folder: String) throws -> Int64 {
    let files = try FileManager.default.contentsOfDirectory(atPath: folder)
      .filter { $0.hasSuffix(".safetensors") }.sorted()
    var total: Int64 = 0
    for name in files {
      let file = try SafeTensorsFile(path: folder + "/" + name)
      for tensor in file.names { total += Int64(try file.info(tensor).count) }
    }
    return total
  }
}
