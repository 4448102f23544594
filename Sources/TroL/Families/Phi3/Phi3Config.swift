internal import Foundation
import TrolleyBasics

/// `llm_config` of TroL-3.8B: the Phi-3-mini decoder (HF `Phi3Config` fields).
@dynamicMemberLookup
public struct Phi3Config: Sendable, Hashable, Codable, SharedConfigFields {
  /// LongRoPE (`su` / `longrope`): per-frequency divisors for short and long contexts.
  public struct RopeScaling: Sendable, Hashable, Codable {
    /// `su` or `longrope` (the same rule).
    public var type: String
    /// Divisors used while (max position id + 1) <= `original_max_position_embeddings`.
    public var shortFactor: [Double]
    /// Divisors used beyond it.
    public var longFactor: [Double]

    enum CodingKeys: String, SnakeCaseCodingKey {
      case type, shortFactor, longFactor
    }
  }

  /// The decoder keys shared with InternLM2, read as this config's own (`config.hiddenSize`);
  /// defaults of HF `Phi3Config`: RMSNorm epsilon 1e-5, 4096 positions.
  public var fields: DecoderFields
  /// nil for the 4k model (plain RoPE).
  public var ropeScaling: RopeScaling?
  /// The context the short factors are for (4096).
  public var originalMaxPositionEmbeddings: Int
  /// Sliding-window attention span, if any (262144 for the 128k model: never reached).
  public var slidingWindow: Int?

  enum CodingKeys: String, SnakeCaseCodingKey {
    case ropeScaling, originalMaxPositionEmbeddings, slidingWindow
  }

  public init(from decoder: any Decoder) throws {
    fields = try DecoderFields(from: decoder, rmsNormEps: 1e-5, maxPositionEmbeddings: 4096)
    let c = try decoder.container(keyedBy: CodingKeys.self)
    ropeScaling = try c.decodeIfPresent(RopeScaling.self, forKey: .ropeScaling)
    originalMaxPositionEmbeddings =
      try c.decodeIfPresent(Int.self, forKey: .originalMaxPositionEmbeddings)
      ?? fields.maxPositionEmbeddings
    slidingWindow = try c.decodeIfPresent(Int.self, forKey: .slidingWindow)
  }

  public func encode(to encoder: any Encoder) throws {
    try fields.encode(to: encoder)
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encodeIfPresent(ropeScaling, forKey: .ropeScaling)
    try c.encode(originalMaxPositionEmbeddings, forKey: .originalMaxPositionEmbeddings)
    try c.encodeIfPresent(slidingWindow, forKey: .slidingWindow)
  }

  /// The factor LongRoPE multiplies both cos and sin by, always (≈1.1902 for the 128k model):
  /// sqrt(1 + ln(max / original) / ln(original)), or 1 without scaling.
  public var ropeMagnitudeScale: Double {
    guard ropeScaling != nil, fields.maxPositionEmbeddings > originalMaxPositionEmbeddings else {
      return 1
    }
    let ratio = Double(fields.maxPositionEmbeddings) / Double(originalMaxPositionEmbeddings)
    return (1 + log(ratio) / log(Double(originalMaxPositionEmbeddings))).squareRoot()
  }

  func validate(_ check: ConfigValidator) throws {
    try fields.validateDimensions(check)
    try check.positive(originalMaxPositionEmbeddings, "original_max_position_embeddings")
    if let slidingWindow { try check.positive(slidingWindow, "sliding_window") }
    if let ropeScaling {
      guard ropeScaling.type == "su" || ropeScaling.type == "longrope" else {
        throw check.fail(
          "rope_scaling.type", "'\(ropeScaling.type)' is not supported (su or longrope)")
      }
      for (key, factors) in [
        ("short_factor", ropeScaling.shortFactor), ("long_factor", ropeScaling.longFactor),
      ] {
        guard factors.count == fields.headDim / 2 else {
          throw check.fail(
            "rope_scaling.\(key)",
            "has \(factors.count) entries, head dim \(fields.headDim) needs \(fields.headDim / 2)")
        }
        guard factors.allSatisfy({ $0 > 0 && $0.isFinite }) else {
          throw check.fail("rope_scaling.\(key)", "must hold positive numbers")
        }
      }
    }
    try fields.validateActivationAndTokens(check, embeddingRows: fields.vocabSize)
  }
}
