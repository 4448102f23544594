internal import Foundation
public import TroL

/// Saves and resumes a run's training state in one safetensors file: the trainable tensors
/// (`param/<name>`), AdamW's moments (`adam.m/<name>`, `adam.v/<name>`) and, in the metadata, the
/// step, AdamW's t, the data order's epoch and position and the LoRA shape.
public enum TrainingCheckpoint {
  public static func save<T: Real>(_ trainer: Trainer<T>, to path: String) throws {
    let parameters = trainer.optimizer.parameters
    var specs: [SafeTensorsWriter.TensorSpec] = []
    var values: [[Float]] = []
    for (k, p) in parameters.enumerated() {
      for (prefix, buffer) in [
        ("param/", p.value), ("adam.m/", trainer.optimizer.m[k]),
        ("adam.v/", trainer.optimizer.v[k]),
      ] {
        specs.append(.init(name: prefix + p.name, dtype: .f32, shape: p.shape))
        values.append(buffer.floats)
      }
    }
    let state = trainer.dataState
    var metadata = [
      "format": "trolley-training", "step": String(trainer.step),
      "adam_step": String(trainer.optimizer.step), "epoch": String(state.epoch),
      "cursor": String(state.cursor), "trainable": trainer.settings.trainable.rawValue,
    ]
    if let lora = trainer.model.adapters.first {
      metadata["lora_rank"] = String(lora.rank)
      metadata["lora_alpha"] = String(lora.alpha)
    }
    let writer = try SafeTensorsWriter(path: path, tensors: specs, metadata: metadata)
    for v in values { try writer.append(floats: v) }
    try writer.finish()
  }

  /// Restores `trainer` (built with the same model, samples and settings) from `path`.
  public static func resume<T: Real>(_ trainer: Trainer<T>, from path: String) throws {
    let file = try SafeTensorsFile(path: path)
    func number(_ key: String) throws -> Int {
      guard let text = file.metadata[key], let value = Int(text) else {
        throw TrainingError("\(path): no \(key) in the metadata; not a trolley training checkpoint")
      }
      return value
    }
    guard file.metadata["trainable"] == trainer.settings.trainable.rawValue else {
      throw TrainingError(
        "\(path) was saved for \(file.metadata["trainable"] ?? "?"), this run trains \(trainer.settings.trainable.rawValue)"
      )
    }
    for (k, p) in trainer.optimizer.parameters.enumerated() {
      for (prefix, buffer) in [
        ("param/", p.value), ("adam.m/", trainer.optimizer.m[k]),
        ("adam.v/", trainer.optimizer.v[k]),
      ] {
        let stored = try file.floats(prefix + p.name)
        guard stored.count == buffer.count else {
          throw TrainingError(
            "\(path): \(prefix + p.name) has \(stored.count) values, the run has \(buffer.count)")
        }
        for i in 0..<stored.count { buffer.p[i] = T(stored[i]) }
      }
    }
    trainer.optimizer.step = try number("adam_step")
    trainer.restore(
      step: try number("step"), epoch: try number("epoch"), cursor: try number("cursor"))
  }
}
