internal import Foundation
import TrolleyBasics

/// `llm_config` of TroL-3.8B: the Phi-3-mini decoder (HF `Phi3Config` fields).
public struct Phi3Config: Sendable, Hashable, Codable {
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

  /// D (3072 for Phi-3-mini).
  public var hiddenSize: Int
  /// I (8192); `gate_up_proj` has 2·I rows.
  public var intermediateSize: Int
  public var numHiddenLayers: Int
  public var numAttentionHeads: Int
  /// Defaults to the head count (Phi-3-mini has no GQA).
  public var numKeyValueHeads: Int
  /// Rows of the embedding table and LM head (32064; more than the tokenizer has).
  public var vocabSize: Int
  public var rmsNormEps: Double
  public var ropeTheta: Double
  /// nil for the 4k model (plain RoPE).
  public var ropeScaling: RopeScaling?
  public var maxPositionEmbeddings: Int
  /// The context the short factors are for (4096).
  public var originalMaxPositionEmbeddings: Int
  /// Sliding-window attention span, if any (262144 for the 128k model: never reached).
  public var slidingWindow: Int?
  public var hiddenAct: String
  public var tieWordEmbeddings: Bool
  public var bosTokenId: Int?
  public var eosTokenId: Int?
  public var padTokenId: Int?

  enum CodingKeys: String, SnakeCaseCodingKey {
    case hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads, numKeyValueHeads,
      vocabSize, rmsNormEps, ropeTheta, ropeScaling, maxPositionEmbeddings,
      originalMaxPositionEmbeddings, slidingWindow, hiddenAct, tieWordEmbeddings, bosTokenId,
      eosTokenId, padTokenId
  }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    hiddenSize = try c.decode(Int.self, forKey: .hiddenSize)
    intermediateSize = try c.decode(Int.self, forKey: .intermediateSize)
    numHiddenLayers = try c.decode(Int.self, forKey: .numHiddenLayers)
    numAttentionHeads = try c.decode(Int.self, forKey: .numAttentionHeads)
    numKeyValueHeads =
      try c.decodeIfPresent(Int.self, forKey: .numKeyValueHeads) ?? numAttentionHeads
    vocabSize = try c.decode(Int.self, forKey: .vocabSize)
    rmsNormEps = try c.decodeIfPresent(Double.self, forKey: .rmsNormEps) ?? 1e-5
    ropeTheta = try c.decodeIfPresent(Double.self, forKey: .ropeTheta) ?? 10000
    ropeScaling = try c.decodeIfPresent(RopeScaling.self, forKey: .ropeScaling)
    maxPositionEmbeddings = try c.decodeIfPresent(Int.self, forKey: .maxPositionEmbeddings) ?? 4096
    originalMaxPositionEmbeddings =
      try c.decodeIfPresent(Int.self, forKey: .originalMaxPositionEmbeddings)
      ?? maxPositionEmbeddings
    slidingWindow = try c.decodeIfPresent(Int.self, forKey: .slidingWindow)
    hiddenAct = try c.decodeIfPresent(String.self, forKey: .hiddenAct) ?? "silu"
    tieWordEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings) ?? false
    bosTokenId = try c.decodeIfPresent(ConfigTokenID.self, forKey: .bosTokenId)?.value
    eosTokenId = try c.decodeIfPresent(ConfigTokenID.self, forKey: .eosTokenId)?.value
    padTokenId = try c.decodeIfPresent(ConfigTokenID.self, forKey: .padTokenId)?.value
  }

  /// Head width (96 for Phi-3-mini).
  public var headDim: Int { hiddenSize / numAttentionHeads }

  /// The factor LongRoPE multiplies both cos and sin by, always (≈1.1902 for the 128k model):
  /// sqrt(1 + ln(max / original) / ln(original)), or 1 without scaling.
  public var ropeMagnitudeScale: Double {
    guard ropeScaling != nil, maxPositionEmbeddings > originalMaxPositionEmbeddings else {
      return 1
    }
    let ratio = Double(maxPositionEmbeddings) / Double(originalMaxPositionEmbeddings)
    return (1 + log(ratio) / log(Double(originalMaxPositionEmbeddings))).squareRoot()
  }

  func validate(_ check: ConfigValidator) throws {
    try check.decoder(
      hiddenSize: hiddenSize, intermediateSize: intermediateSize, layers: numHiddenLayers,
      heads: numAttentionHeads, kvHeads: numKeyValueHeads, vocabSize: vocabSize,
      rmsNormEps: rmsNormEps, ropeTheta: ropeTheta, maxPositions: maxPositionEmbeddings)
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
        guard factors.count == headDim / 2 else {
          throw check.fail(
            "rope_scaling.\(key)",
            "has \(factors.count) entries, head dim \(headDim) needs \(headDim / 2)")
        }
        guard factors.allSatisfy({ $0 > 0 && $0.isFinite }) else {
          throw check.fail("rope_scaling.\(key)", "must hold positive numbers")
        }
      }
    }
    guard hiddenAct == "silu" else {
      throw check.fail("hidden_act", "'\(hiddenAct)' is not supported (silu)")
    }
    try check.tokenIDs(
      bos: bosTokenId, eos: eosTokenId, pad: padTokenId, rows: vocabSize, vocabSize: vocabSize)
  }
}
