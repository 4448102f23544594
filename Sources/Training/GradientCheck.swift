internal import Foundation
public import Tensor
public import TroL

/// `trolley train grad`: the loss, every gradient and one AdamW step for one image, question and
/// answer, written with the goldens' names (training.md's table) so they can be compared.
public enum GradientCheck {
  public struct Options: Sendable {
    public var trainable: TrainableSet
    public var loraRank: Int
    public var loraAlpha: Double
    /// A safetensors file with `<m>.A` / `<m>.B` LoRA initial values (else PEFT's init).
    public var loraInitPath: String?
    public var learningRate: Double
    public var weightDecay: Double
    public var format: WeightFormat
    /// TroL's traversal (false: each layer once, no gate).
    public var traversal: Bool

    public init(
      trainable: TrainableSet, loraRank: Int = 4, loraAlpha: Double = 8,
      loraInitPath: String? = nil,
      learningRate: Double = 1e-3, weightDecay: Double = 0.01, format: WeightFormat = .f32,
      traversal: Bool = true
    ) {
      self.traversal = traversal
      self.trainable = trainable
      self.loraRank = loraRank
      self.loraAlpha = loraAlpha
      self.loraInitPath = loraInitPath
      self.learningRate = learningRate
      self.weightDecay = weightDecay
      self.format = format
    }
  }

  public struct Result: Sendable {
    public var loss: Double
    public var lossAfterStep: Double
    public var tokens: Int
  }

  /// Reads a `--lora-init` file: every tensor `<m>.A` / `<m>.B` (an `init/lora/` prefix, as in the
  /// goldens, is accepted too).
  public static func loraInit(path: String) throws -> [String: [Float]] {
    let file = try SafeTensorsFile(path: path)
    var values: [String: [Float]] = [:]
    for name in file.names {
      let key = name.hasPrefix("init/lora/") ? String(name.dropFirst("init/lora/".count)) : name
      guard key.hasSuffix(".A") || key.hasSuffix(".B") else { continue }
      values[key] = try file.floats(name)
    }
    return values
  }

  public static func run(
    model path: String, imagePath: String?, question: String, answer: String, options: Options,
    out: String
  ) throws -> Result {
    let model = try TrainingModel<Float>(path: path, format: options.format)
    model.traversal = options.traversal
    try model.prepare(
      options.trainable, loraRank: options.loraRank, loraAlpha: options.loraAlpha,
      loraInit: try options.loraInitPath.map { try loraInit(path: $0) } ?? [:])
    let builder = try SampleBuilder(modelDirectory: path, trainable: options.trainable)
    let sample = try builder.sample(
      imagePath: imagePath, question: question, answer: answer,
      featureWidth: model.visionFeatureWidth)
    let runner = TrainingRunner(model: model)
    let parameters = model.parameters(options.trainable)
    runner.zeroGradients()
    let kept = sample.scoredRows.count
    let result = try runner.accumulate(sample, normalizer: kept, wantVisionGradient: true)
    var tensors: [(SafeTensorsWriter.TensorSpec, [Float])] = parameters.map {
      (.init(name: "grad/\($0.name)", dtype: .f32, shape: $0.shape), $0.grad.floats)
    }
    if let vision = result.visionFeatureGradient, !vision.isEmpty {
      let width = model.visionFeatureWidth
      tensors.append(
        (
          .init(name: "grad/vision_features", dtype: .f32, shape: [vision.count / width, width]),
          vision
        ))
    }
    let optimizer = AdamW(
      parameters: parameters, settings: .init(weightDecay: options.weightDecay))
    optimizer.update(lr: options.learningRate)
    tensors += parameters.map {
      (.init(name: "after/\($0.name)", dtype: .f32, shape: $0.shape), $0.value.floats)
    }
    let after = try runner.loss(sample).lossSum / Double(kept)
    let writer = try SafeTensorsWriter(path: out, tensors: tensors.map(\.0))
    for (_, values) in tensors { try writer.append(floats: values) }
    try writer.finish()
    return Result(loss: result.lossSum / Double(kept), lossAfterStep: after, tokens: kept)
  }
}
