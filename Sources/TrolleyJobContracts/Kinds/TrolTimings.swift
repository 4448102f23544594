/// Where a TroL job's time went, as its result reports it (the engine's `AnswerTimings`, in the
/// result's own names).
public struct TrolTimings: Codable, Sendable, Equatable {
  public var imagePreprocessingSeconds: Double
  public var visionSeconds: Double
  public var prefillSeconds: Double
  public var prefillTokens: Int
  public var decodeSeconds: Double
  public var decodeTokens: Int
  public var decodeTokensPerSecond: Double
  public var totalSeconds: Double

  public init(
    imagePreprocessingSeconds: Double, visionSeconds: Double, prefillSeconds: Double,
    prefillTokens: Int, decodeSeconds: Double, decodeTokens: Int, decodeTokensPerSecond: Double,
    totalSeconds: Double
  ) {
    self.imagePreprocessingSeconds = imagePreprocessingSeconds
    self.visionSeconds = visionSeconds
    self.prefillSeconds = prefillSeconds
    self.prefillTokens = prefillTokens
    self.decodeSeconds = decodeSeconds
    self.decodeTokens = decodeTokens
    self.decodeTokensPerSecond = decodeTokensPerSecond
    self.totalSeconds = totalSeconds
  }

  enum CodingKeys: String, CodingKey {
    case imagePreprocessingSeconds = "image_preprocessing_s"
    case visionSeconds = "vision_s"
    case prefillSeconds = "prefill_s"
    case prefillTokens = "prefill_tokens"
    case decodeSeconds = "decode_s"
    case decodeTokens = "decode_tokens"
    case decodeTokensPerSecond = "decode_tokens_per_s"
    case totalSeconds = "total_s"
  }
}
