extension ImagePreprocessor {
  /// The preprocessing a TroL checkpoint expects, from its config.json (each family says which:
  /// see `FamilyConfig.preprocessor`).
  ///
  /// - Parameter config: The model's config.
  public init(for config: ModelConfig) {
    self = config.details.preprocessor
  }
}
