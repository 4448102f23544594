import BuildInfo
public import TroL
public import TrolleyJobContracts

/// What produced a result, recorded in every answer and caption (`"provenance"`) and carried by
/// `trolley export`: the model's identity, its weight format in memory, the generation settings
/// and the Trolley build.
public struct ResultProvenance: Encodable, Sendable, Hashable {
  /// The generation settings that decide the tokens.
  public struct Generation: Encodable, Sendable, Hashable {
    /// "greedy", "beam_search" or "sampling".
    public var strategy: String
    public var beams: Int?
    public var maxNewTokens: Int
    /// Propagations per layer over the prompt (2 is TroL).
    public var propagations: Int
    public var traverseGeneratedTokens: Bool

    enum CodingKeys: String, CodingKey {
      case strategy, beams, propagations
      case maxNewTokens = "max_new_tokens"
      case traverseGeneratedTokens = "traverse_generated_tokens"
    }

    public init(_ options: GenerationOptions) {
      switch options.strategy {
      case .greedy: strategy = "greedy"
      case .beamSearch(let count):
        strategy = "beam_search"
        beams = count
      case .sampling: strategy = "sampling"
      }
      maxNewTokens = options.maxNewTokens
      propagations = options.traversal.propagations
      traverseGeneratedTokens = options.traversal.traverseGeneratedTokens
    }
  }

  public var model: ModelIdentity
  /// "f16", "f32", "q8" or "q4".
  public var weights: String
  public var generation: Generation
  public var trolleyVersion: String
  public var trolleyCommit: String

  enum CodingKeys: String, CodingKey {
    case model, weights, generation
    case trolleyVersion = "trolley_version"
    case trolleyCommit = "trolley_commit"
  }

  /// - Parameter weights: The engine's `weightFormat.rawValue`.
  public init(model: ModelIdentity, weights: String, options: GenerationOptions) {
    self.model = model
    self.weights = weights
    self.generation = Generation(options)
    self.trolleyVersion = TrolleyBuild.version
    self.trolleyCommit = TrolleyBuild.commit
  }

  /// The provenance as the JSON value results carry.
  public var resultJSON: JobJSON { (try? JobJSONEncoder.tree(self)) ?? .null }
}
