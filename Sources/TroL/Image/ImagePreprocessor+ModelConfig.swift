extension ImagePreprocessor {
  /// The preprocessing a TroL checkpoint expects, from its config.json.
  ///
  /// InternLM2 family: stretch to `imageSize` (490 released, `img_size`). Phi-3 family: tiles of
  /// `imageSize` (448 released) with at most 6 grid tiles plus a thumbnail — the official code
  /// calls `dynamic_preprocess` with its defaults (1...6, thumbnail on) and ignores the config's
  /// `min/max_dynamic_patch` and `use_thumbnail`, so they are ignored here too.
  ///
  /// - Parameter config: The model's config.
  public init(for config: ModelConfig) {
    switch config.family {
    case .internLM2:
      self = .internLM2(imageSize: config.imageSize)
    case .phi3:
      self = .phi3(tileSize: config.imageSize, maxTiles: 6)
    }
  }
}
