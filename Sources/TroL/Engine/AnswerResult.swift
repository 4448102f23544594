/// The engine's answer to one `AnswerRequest`.
public struct AnswerResult: Sendable, Codable, Hashable {
  /// The answer text (TroL's `output_filtering`: after the assistant marker, before the turn end,
  /// whitespace stripped).
  public var answer: String
  /// The prompt's token ids (image placeholders expanded).
  public var promptTokenIDs: [Int]
  /// The generated ids in order (a stop token included when one ended the answer).
  public var tokenIDs: [Int]
  /// "stop_token" or "length".
  public var finishReason: String
  /// Beam search: the winning hypothesis's score (sum of log-probabilities / length).
  public var beamScore: Double?
  public var timings: AnswerTimings

  enum CodingKeys: String, CodingKey {
    case answer
    case promptTokenIDs = "prompt_token_ids"
    case tokenIDs = "token_ids"
    case finishReason = "finish_reason"
    case beamScore = "beam_score"
    case timings
  }
}

/// Where one answer's time went, in seconds. Work shared by a batch (one image for several
/// questions, one decode step for several sequences) is counted in full for each request it served.
public struct AnswerTimings: Sendable, Codable, Hashable {
  /// Decoding the image file and resizing/normalizing it (0 without an image).
  public var imagePreprocessingSeconds: Double
  /// The vision tower and projector (0 without an image).
  public var visionSeconds: Double
  /// Prompt forwards (with traversal), including a shared prefix's.
  public var prefillSeconds: Double
  /// Prompt tokens this request computed itself (fewer than the prompt when a prefix was shared).
  public var prefillTokens: Int
  /// From the first decode step until this request's last token.
  public var decodeSeconds: Double
  /// Generated tokens.
  public var decodeTokens: Int
  /// decodeTokens / decodeSeconds (the first token comes from the prefill and is not counted in the
  /// time, so this is (tokens − 1) / seconds when there was more than one).
  public var decodeTokensPerSecond: Double
  /// From the call until the whole batch finished.
  public var totalSeconds: Double

  public init(
    imagePreprocessingSeconds: Double, visionSeconds: Double, prefillSeconds: Double,
    prefillTokens: Int,
    decodeSeconds: Double, decodeTokens: Int, totalSeconds: Double
  ) {
    self.imagePreprocessingSeconds = imagePreprocessingSeconds
    self.visionSeconds = visionSeconds
    self.prefillSeconds = prefillSeconds
    self.prefillTokens = prefillTokens
    self.decodeSeconds = decodeSeconds
    self.decodeTokens = decodeTokens
    self.decodeTokensPerSecond =
      decodeSeconds > 0 ? Double(max(decodeTokens - 1, 0)) / decodeSeconds : 0
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
