import TroL

/// How the TroL kinds run: the loaded engine and the knobs `trolley worker` exposes.
public struct EngineJobSettings: Sendable {
  public var batch: EngineBatch
  /// Most jobs answered in one engine batch (`--batch-size`). Default 1.
  public var batchSize: Int
  /// The prompt for caption jobs whose payload has none (`--caption-prompt`).
  public var captionPrompt: String
  /// Most new tokens when a payload does not say. Default 256 (the official demo's value).
  public var maxNewTokens: Int

  public static let defaultCaptionPrompt = "Describe this image in detail."

  public init(
    batch: EngineBatch, batchSize: Int = 1, captionPrompt: String = Self.defaultCaptionPrompt,
    maxNewTokens: Int = 256
  ) {
    precondition(batchSize >= 1, "EngineJobSettings: batch size must be at least 1")
    self.batch = batch
    self.batchSize = batchSize
    self.captionPrompt = captionPrompt
    self.maxNewTokens = maxNewTokens
  }

  /// Generation options for one job: greedy unless the payload asks for beams.
  func options(maxNewTokens requested: Int?, beams: Int?) -> GenerationOptions {
    var options = GenerationOptions(maxNewTokens: requested ?? maxNewTokens)
    if let beams, beams > 1 { options.strategy = .beamSearch(beams: beams) }
    return options
  }
}
