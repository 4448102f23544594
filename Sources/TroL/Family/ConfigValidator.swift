import TrolleyBasics

/// Checks config.json values and throws `TroLError.invalidConfig` naming the offending key.
struct ConfigValidator {
  /// The file the values came from, for messages.
  let source: String
  /// The key path prefix (`llm_config.`, `vision_config.`...).
  var prefix = ""

  func fail(_ key: String, _ what: String) -> TroLError {
    TroLError(.invalidConfig, "\(source): '\(prefix)\(key)' \(what)")
  }

  func positive(_ value: Int, _ key: String) throws {
    guard value > 0 else { throw fail(key, "must be positive, got \(value)") }
  }

  func positive(_ value: Double, _ key: String) throws {
    guard value > 0, value.isFinite else {
      throw fail(key, "must be a positive number, got \(value)")
    }
  }

  func divides(_ divisor: Int, _ divisorKey: String, _ value: Int, _ valueKey: String) throws {
    guard divisor > 0, value % divisor == 0 else {
      throw fail(divisorKey, "(\(divisor)) must divide '\(prefix)\(valueKey)' (\(value))")
    }
  }

  /// What every transformer stack needs, decoder or tower: positive widths, depth and heads, and
  /// a head count that divides the width (HF key names).
  func transformer(hiddenSize: Int, intermediateSize: Int, layers: Int, heads: Int) throws {
    try positive(hiddenSize, "hidden_size")
    try positive(intermediateSize, "intermediate_size")
    try positive(layers, "num_hidden_layers")
    try positive(heads, "num_attention_heads")
    try divides(heads, "num_attention_heads", hiddenSize, "hidden_size")
  }

  /// A decoder's shared checks, in this order: the stack, KV heads that divide the query heads,
  /// an even head width (RoPE rotates pairs), the vocabulary, norm epsilon, RoPE base and context.
  func decoder(
    hiddenSize: Int, intermediateSize: Int, layers: Int, heads: Int, kvHeads: Int, vocabSize: Int,
    rmsNormEps: Double, ropeTheta: Double, maxPositions: Int
  ) throws {
    try transformer(
      hiddenSize: hiddenSize, intermediateSize: intermediateSize, layers: layers, heads: heads)
    try positive(kvHeads, "num_key_value_heads")
    try divides(kvHeads, "num_key_value_heads", heads, "num_attention_heads")
    let headDim = hiddenSize / heads
    guard headDim % 2 == 0 else {
      throw fail("hidden_size", "gives an odd head dim \(headDim); RoPE needs pairs")
    }
    try positive(vocabSize, "vocab_size")
    try positive(rmsNormEps, "rms_norm_eps")
    try positive(ropeTheta, "rope_theta")
    try positive(maxPositions, "max_position_embeddings")
  }

  /// The special token ids, each absent or a row of the embedding table (`rows`, which may exceed
  /// `vocab_size`).
  func tokenIDs(bos: Int?, eos: Int?, pad: Int?, rows: Int, vocabSize: Int) throws {
    for (key, id) in [("bos_token_id", bos), ("eos_token_id", eos), ("pad_token_id", pad)] {
      if let id, id < 0 || id >= rows {
        throw fail(key, "\(id) is outside the vocabulary (\(vocabSize))")
      }
    }
  }

  /// A vision tower's shared checks: the stack, patch and input sizes (`wholePatches`: the input
  /// must be a whole number of patches), RGB input and the norm epsilon.
  func visionTower(
    hiddenSize: Int, intermediateSize: Int, layers: Int, heads: Int, patchSize: Int,
    imageSize: Int, wholePatches: Bool, channels: Int, layerNormEps: Double
  ) throws {
    try transformer(
      hiddenSize: hiddenSize, intermediateSize: intermediateSize, layers: layers, heads: heads)
    try positive(patchSize, "patch_size")
    try positive(imageSize, "image_size")
    if wholePatches { try divides(patchSize, "patch_size", imageSize, "image_size") }
    guard channels == 3 else { throw fail("num_channels", "must be 3 (RGB), got \(channels)") }
    try positive(layerNormEps, "layer_norm_eps")
  }

  func nested(_ key: String) -> ConfigValidator {
    ConfigValidator(source: source, prefix: prefix + key + ".")
  }
}

/// A token id that config files write either as a number or as a list of numbers (first used).
struct ConfigTokenID: Decodable, Hashable, Sendable {
  let value: Int?

  init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    if container.decodeNil() {
      value = nil
    } else if let single = try? container.decode(Int.self) {
      value = single
    } else {
      value = try container.decode([Int].self).first
    }
  }
}
