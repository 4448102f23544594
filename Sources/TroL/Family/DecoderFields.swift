import TrolleyBasics

/// The decoder keys config.json has in both families (HF names), with the defaults the HF config
/// classes give a file that omits them; each family passes the two defaults that differ.
public struct DecoderFields: Sendable, Hashable, Encodable {
  /// D, the decoder width (2048 for 1.8B, 4096 for 7B, 3072 for Phi-3-mini).
  public var hiddenSize: Int
  /// I, the SwiGLU width (Phi-3's `gate_up_proj` has 2·I rows).
  public var intermediateSize: Int
  /// Decoder layers.
  public var numHiddenLayers: Int
  /// H, query heads.
  public var numAttentionHeads: Int
  /// KV heads (8 in the released InternLM2 models; Phi-3-mini has no GQA); defaults to H.
  public var numKeyValueHeads: Int
  /// Rows of the LM head (92544 for InternLM2, whose embedding table has one more row for
  /// `<image>`; 32064 for Phi-3, more than the tokenizer has).
  public var vocabSize: Int
  /// RMSNorm epsilon.
  public var rmsNormEps: Double
  /// RoPE base.
  public var ropeTheta: Double
  /// Positions the model was trained for.
  public var maxPositionEmbeddings: Int
  /// Activation of the MLP (`silu`).
  public var hiddenAct: String
  /// Whether the LM head shares the embedding table (false).
  public var tieWordEmbeddings: Bool
  public var bosTokenId: Int?
  public var eosTokenId: Int?
  public var padTokenId: Int?

  enum CodingKeys: String, SnakeCaseCodingKey {
    case hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads, numKeyValueHeads,
      vocabSize, rmsNormEps, ropeTheta, maxPositionEmbeddings, hiddenAct, tieWordEmbeddings,
      bosTokenId, eosTokenId, padTokenId
  }

  /// Decodes the shared keys from the family's config object (they sit beside its own keys).
  init(
    from decoder: any Decoder, rmsNormEps defaultEps: Double, maxPositionEmbeddings defaultMax: Int
  )
    throws
  {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    hiddenSize = try c.decode(Int.self, forKey: .hiddenSize)
    intermediateSize = try c.decode(Int.self, forKey: .intermediateSize)
    numHiddenLayers = try c.decode(Int.self, forKey: .numHiddenLayers)
    numAttentionHeads = try c.decode(Int.self, forKey: .numAttentionHeads)
    numKeyValueHeads =
      try c.decodeIfPresent(Int.self, forKey: .numKeyValueHeads) ?? numAttentionHeads
    vocabSize = try c.decode(Int.self, forKey: .vocabSize)
    rmsNormEps = try c.decodeIfPresent(Double.self, forKey: .rmsNormEps) ?? defaultEps
    ropeTheta = try c.decodeIfPresent(Double.self, forKey: .ropeTheta) ?? 10000
    maxPositionEmbeddings =
      try c.decodeIfPresent(Int.self, forKey: .maxPositionEmbeddings) ?? defaultMax
    hiddenAct = try c.decodeIfPresent(String.self, forKey: .hiddenAct) ?? "silu"
    tieWordEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings) ?? false
    bosTokenId = try c.decodeIfPresent(ConfigTokenID.self, forKey: .bosTokenId)?.value
    eosTokenId = try c.decodeIfPresent(ConfigTokenID.self, forKey: .eosTokenId)?.value
    padTokenId = try c.decodeIfPresent(ConfigTokenID.self, forKey: .padTokenId)?.value
  }

  /// Head width (128 in the released InternLM2 models, 96 for Phi-3-mini).
  public var headDim: Int { hiddenSize / numAttentionHeads }
  /// Query heads per KV head.
  public var groupSize: Int { numAttentionHeads / numKeyValueHeads }

  /// The decoder part of `ModelConfig.Summary`.
  var dimensions: ModelConfig.Decoder {
    ModelConfig.Decoder(
      hiddenSize: hiddenSize, intermediateSize: intermediateSize, layers: numHiddenLayers,
      heads: numAttentionHeads, kvHeads: numKeyValueHeads, headDim: headDim, vocabSize: vocabSize,
      rmsNormEps: rmsNormEps, ropeTheta: ropeTheta, maxPositionEmbeddings: maxPositionEmbeddings)
  }

  /// The dimension checks every decoder needs (`ConfigValidator.decoder`).
  func validateDimensions(_ check: ConfigValidator) throws {
    try check.decoder(
      hiddenSize: hiddenSize, intermediateSize: intermediateSize, layers: numHiddenLayers,
      heads: numAttentionHeads, kvHeads: numKeyValueHeads, vocabSize: vocabSize,
      rmsNormEps: rmsNormEps, ropeTheta: ropeTheta, maxPositions: maxPositionEmbeddings)
  }

  /// The activation (only `silu` is implemented) and the special token ids, each a row of the
  /// embedding table, which has `embeddingRows` rows.
  func validateActivationAndTokens(_ check: ConfigValidator, embeddingRows: Int) throws {
    guard hiddenAct == "silu" else {
      throw check.fail("hidden_act", "'\(hiddenAct)' is not supported (silu)")
    }
    try check.tokenIDs(
      bos: bosTokenId, eos: eosTokenId, pad: padTokenId, rows: embeddingRows, vocabSize: vocabSize)
  }
}
