/// Projected image features [rows, D], ready to replace the image placeholder embeddings.
///
/// A reference type on purpose: prompts that carry the same `ImageFeatures` object are known to
/// share the image, which is what prefix sharing keys on.
public final class ImageFeatures: Sendable {
  /// Row-major [rows, D].
  public let values: [Float]
  /// The number of image tokens these features fill.
  public let rows: Int

  public init(values: [Float], rows: Int) {
    precondition(
      rows > 0 && values.count % rows == 0, "ImageFeatures: \(values.count) values for \(rows) rows"
    )
    self.values = values
    self.rows = rows
  }
}

/// One prompt to continue: its token ids (image placeholders expanded), the image features for
/// the placeholders, and the generation settings.
public struct GenerationPrompt: Sendable {
  public var tokens: [Int]
  public var image: ImageFeatures?
  public var options: GenerationOptions
  /// Stops this prompt early when set (its output then ends with `.cancelled`); nil: never.
  public var cancellation: CancellationFlag?
  /// Receives this prompt's generated token count after each new token, if given.
  public var progress: GenerationProgress?

  public init(
    tokens: [Int], image: ImageFeatures?, options: GenerationOptions,
    cancellation: CancellationFlag? = nil, progress: GenerationProgress? = nil
  ) {
    self.tokens = tokens
    self.image = image
    self.options = options
    self.cancellation = cancellation
    self.progress = progress
  }
}

/// What generation produced for one prompt.
public struct GenerationOutput: Sendable {
  /// Why generation stopped.
  public enum FinishReason: String, Sendable, Codable {
    /// A stop token was generated (it is the last id of `tokens`).
    case stopToken = "stop_token"
    /// `maxNewTokens` were generated.
    case length
    /// The prompt's cancellation flag was set; `tokens` are whatever came before.
    case cancelled
  }

  /// Generated ids in order (the stop token included when one ended the answer).
  public var tokens: [Int]
  public var finishReason: FinishReason
  /// Beam search: the winning hypothesis's score (sum of log-probabilities / length).
  public var beamScore: Double?
  /// Beam search: every final hypothesis (ids, score), best first.
  public var beamHypotheses: [(tokens: [Int], score: Double)]
  /// Seconds in the forwards that covered this prompt (including a shared prefix's).
  public var prefillSeconds: Double
  /// Seconds from the first decode step until this prompt finished.
  public var decodeSeconds: Double
  /// Prompt tokens this prompt computed itself (the rest came from a shared prefix).
  public var prefilledTokens: Int
  /// Logits of each generated token's step ([tokens.count, V]), when requested (tests).
  public var stepLogits: [Float]?
}
