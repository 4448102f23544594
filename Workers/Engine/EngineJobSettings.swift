public import Datasets
public import TroL
import TrolleyBasics

/// How the TroL kinds run: the loaded engine and the knobs `trolley worker` exposes.
public struct EngineJobSettings: Sendable {
  public var batch: EngineBatch
  /// Most jobs answered in one engine batch (`--batch-size`). Default 1.
  public var batchSize: Int
  /// The prompt for caption jobs whose payload has none (`--caption-prompt`).
  public var captionPrompt: String
  /// Most new tokens when a payload does not say. Default 256 (the official demo's value).
  public var maxNewTokens: Int
  /// Where layers are traversed for every job (`--traversal`). Default: every prompt position,
  /// the official code's behaviour.
  public var traversal: TraversalPolicy
  /// Where jobs with a `dataset_item` write their caption or answer (`trolley worker` sets it).
  public var datasetItems: DatasetStore?

  public static let defaultCaptionPrompt = "Describe this image in detail."
  /// The most new tokens a job may ask for: the engine reserves cache for all of them up front,
  /// so a payload must not be able to ask for gigabytes.
  public static let maxNewTokensLimit = 4096
  /// The most beams a job may ask for (each beam holds a cache of its own).
  public static let beamsLimit = 8
  /// The most beams × new tokens a job may ask for: a beam search keeps two caches of
  /// `maxNewTokens` positions per beam (about 3 GiB at this limit for TroL-1.8B).
  public static let beamTokensLimit = 8192

  public init(
    batch: EngineBatch, batchSize: Int = 1, captionPrompt: String = Self.defaultCaptionPrompt,
    maxNewTokens: Int = 256, traversal: TraversalPolicy = .trol
  ) {
    precondition(batchSize >= 1, "EngineJobSettings: batch size must be at least 1")
    precondition(
      (1...Self.maxNewTokensLimit).contains(maxNewTokens),
      "EngineJobSettings: maxNewTokens must be 1...\(Self.maxNewTokensLimit)")
    self.batch = batch
    self.batchSize = batchSize
    self.captionPrompt = captionPrompt
    self.maxNewTokens = maxNewTokens
    self.traversal = traversal
  }

  /// Generation options for one job: greedy unless the payload asks for beams, with the worker's
  /// traversal.
  /// - Throws: `JobFailure.Code.invalidPayload` naming a field outside its limits.
  func options(maxNewTokens requested: Int?, beams: Int?) throws -> GenerationOptions {
    if let requested, !(1...Self.maxNewTokensLimit).contains(requested) {
      throw JobFailure(
        .invalidPayload,
        "max_new_tokens must be 1...\(Self.maxNewTokensLimit), got \(requested)")
    }
    if let beams, !(1...Self.beamsLimit).contains(beams) {
      throw JobFailure(.invalidPayload, "beams must be 1...\(Self.beamsLimit), got \(beams)")
    }
    if let beams, beams > 1, beams * (requested ?? maxNewTokens) > Self.beamTokensLimit {
      throw JobFailure(
        .invalidPayload,
        "beams × max_new_tokens must be at most \(Self.beamTokensLimit), got \(beams) × \(requested ?? maxNewTokens); ask for fewer beams or tokens"
      )
    }
    var options = GenerationOptions(maxNewTokens: requested ?? maxNewTokens, traversal: traversal)
    if let beams, beams > 1 { options.strategy = .beamSearch(beams: beams) }
    return options
  }
}
