internal import Tensor
public import TroL

/// Builds training samples the way the goldens were made (training.md, "Exact conventions"): the
/// inference prompt with the image placeholders expanded, then `tokenizer(answer + suffix)` with
/// the family's end-of-turn suffix; labels −100 on the prompt. The frozen vision tower runs through
/// the engine (its features before the projector are what training feeds the projector).
public struct SampleBuilder: Sendable {
  public let engine: TroLEngine

  public init(engine: TroLEngine) { self.engine = engine }

  /// Loads the engine for `path` (the tower in the exact f32 reference format).
  public init(modelDirectory path: String) throws {
    engine = try TroLEngine.load(modelDirectory: path, weights: .f32)
  }

  /// The vision tower's output for an image file, [rows, C] (before the projector).
  public func visionFeatures(imagePath: String) throws -> [Float] {
    let image = try ImageDecoder().decode(contentsOfFile: imagePath)
    let pixels = engine.preprocessor.pixels(for: image)
    var features: [Float] = []
    _ = try pixels.pixels.withUnsafeBufferPointer {
      try engine.model.imageFeatures(
        pixels: $0,
        tracer: { name, _, values in if name == "vision" { features = Array(values) } })
    }
    return features
  }

  /// One sample: image (optional), question and answer.
  ///
  /// - Parameter featureWidth: the projector's input width C (rows of features = count / C).
  public func sample(imagePath: String?, question: String, answer: String, featureWidth: Int)
    throws -> TrainingSample
  {
    let features = try imagePath.map { try visionFeatures(imagePath: $0) } ?? []
    let rows = features.count / featureWidth
    let template = engine.template
    let prompt = try template.prompt(question: question, imageTokens: imagePath == nil ? nil : rows)
    let promptIDs = engine.tokenizer.encode(prompt)
    let answerIDs = engine.tokenizer.encode(answer + template.assistantEnd)
    guard !answerIDs.isEmpty else { throw TrainingError("the answer is empty") }
    return TrainingSample(
      ids: promptIDs + answerIDs,
      labels: [Int](repeating: -100, count: promptIDs.count) + answerIDs,
      visionFeatures: features)
  }
}
