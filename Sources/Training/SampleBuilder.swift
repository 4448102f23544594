internal import Tensor
public import TroL

/// Builds training samples the way the goldens were made (training.md, "Exact conventions"): the
/// inference prompt with the image placeholders expanded, then `tokenizer(answer + suffix)` with
/// the family's end-of-turn suffix; labels −100 on the prompt.
///
/// For step1/step2 the frozen vision tower runs through the engine (its features before the
/// projector are what training feeds the projector). For `all` the tower trains, so samples carry
/// the preprocessed pixels instead and no engine (no second copy of the weights) is loaded.
public struct SampleBuilder: Sendable {
  /// The engine whose tower computes frozen features (nil when samples carry pixels).
  public let engine: TroLEngine?
  public let tokenizer: any TextTokenizer
  public let template: ChatTemplate
  public let preprocessor: ImagePreprocessor
  /// Image tokens per tile of the preprocessed image.
  let tokensPerTile: Int

  private init(
    engine: TroLEngine?, tokenizer: any TextTokenizer, template: ChatTemplate,
    preprocessor: ImagePreprocessor, tokensPerTile: Int
  ) {
    self.engine = engine
    self.tokenizer = tokenizer
    self.template = template
    self.preprocessor = preprocessor
    self.tokensPerTile = tokensPerTile
  }

  public init(engine: TroLEngine) {
    self.init(
      engine: engine, tokenizer: engine.tokenizer, template: engine.template,
      preprocessor: engine.preprocessor, tokensPerTile: engine.model.imageTokensPerTile)
  }

  /// Loads what the samples of `path` need: with `pixels`, only the tokenizer and the image
  /// preprocessing; else the engine too (the tower in the exact f32 reference format).
  public init(modelDirectory path: String, pixels: Bool = false) throws {
    if pixels {
      let directory = try ModelDirectory(path: path)
      self.init(
        engine: nil, tokenizer: try TokenizerLoader.load(directory),
        template: directory.config.template, preprocessor: ImagePreprocessor(for: directory.config),
        tokensPerTile: directory.config.imageTokensPerTile)
    } else {
      self.init(engine: try TroLEngine.load(modelDirectory: path, weights: .f32))
    }
  }

  /// The builder for `set`: pixels when the set trains the tower.
  public init(modelDirectory path: String, trainable set: TrainableSet) throws {
    try self.init(modelDirectory: path, pixels: set.trainsEverything)
  }

  /// Whether samples carry pixels (for the `all` set) rather than frozen features.
  public var includesPixels: Bool { engine == nil }

  /// The vision tower's output for an image file, [rows, C] (before the projector).
  public func visionFeatures(imagePath: String) throws -> [Float] {
    guard let engine else {
      throw TrainingError("this sample builder carries pixels; it has no frozen vision tower")
    }
    let pixels = try preprocessed(imagePath: imagePath)
    var features: [Float] = []
    _ = try pixels.pixels.withUnsafeBufferPointer {
      try engine.model.imageFeatures(
        pixels: $0,
        tracer: { name, _, values in if name == "vision" { features = Array(values) } })
    }
    return features
  }

  /// The image as the tower takes it: tiles of [3, S, S].
  public func preprocessed(imagePath: String) throws -> PreprocessedImage {
    preprocessor.pixels(for: try ImageDecoder().decode(contentsOfFile: imagePath))
  }

  /// One sample: image (optional), question and answer.
  ///
  /// - Parameter featureWidth: the projector's input width C (rows of features = count / C).
  public func sample(imagePath: String?, question: String, answer: String, featureWidth: Int)
    throws -> TrainingSample
  {
    try packedSample(
      imagePath: imagePath, turns: [(question, answer)], featureWidth: featureWidth)
  }

  /// One packed sample of several questions about one image (`TrainingSample.packed`): the image
  /// is read and encoded once.
  public func packedSample(
    imagePath: String?, turns: [(question: String, answer: String)], featureWidth: Int
  ) throws -> TrainingSample {
    guard !turns.isEmpty else { throw TrainingError("no question to train on") }
    var features: [Float] = []
    var pixels: [Float] = []
    var rows: Int? = nil
    if let imagePath {
      if includesPixels {
        let image = try preprocessed(imagePath: imagePath)
        pixels = image.pixels
        rows = image.tileCount * tokensPerTile
      } else {
        features = try visionFeatures(imagePath: imagePath)
        rows = features.count / featureWidth
      }
    }
    return try TrainingSample.packed(
      turns.map {
        try sample(
          question: $0.question, answer: $0.answer, imageTokens: rows, features: features,
          pixels: pixels)
      })
  }

  /// One sample from an image already encoded (`features`, or `pixels` for the `all` set) with
  /// `imageTokens` placeholder rows (nil: a text-only sample).
  public func sample(
    question: String, answer: String, imageTokens: Int?, features: [Float], pixels: [Float]
  ) throws -> TrainingSample {
    let prompt = try template.prompt(question: question, imageTokens: imageTokens)
    let promptIDs = tokenizer.encode(prompt)
    let answerIDs = tokenizer.encode(answer + template.assistantEnd)
    guard !answerIDs.isEmpty else { throw TrainingError("the answer is empty") }
    return TrainingSample(
      ids: promptIDs + answerIDs,
      labels: [Int](repeating: -100, count: promptIDs.count) + answerIDs,
      visionFeatures: features, pixels: pixels)
  }

  /// Image placeholder rows per tile (1225 for TroL-1.8B/7B, 256 for TroL-3.8B).
  public var imageTokensPerTile: Int { tokensPerTile }
}
