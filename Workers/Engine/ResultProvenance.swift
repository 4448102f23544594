import BuildInfo
public import TroL
public import TrolleyJobContracts

/// What produced a result, recorded in every answer and caption (`"provenance"`) and carried by
/// `trolley export`: the model's identity, its weight format in memory, the generation settings
/// and the Trolley build.
public enum ResultProvenance {
  /// The provenance as the JSON value results carry: `model`, `weights` (the engine's
  /// `weightFormat.rawValue`: "f16", "f32", "q8" or "q4"), `generation` and the build's
  /// `trolley_version` and `trolley_commit`.
  public static func json(
    model: ModelIdentity, weights: String, options: GenerationOptions
  ) -> JobJSON {
    .object([
      .init("model", (try? JobJSONEncoder.tree(model)) ?? .null),
      .init("weights", .string(weights)),
      .init("generation", .object(generation(options))),
      .init("trolley_version", .string(TrolleyBuild.version)),
      .init("trolley_commit", .string(TrolleyBuild.commit)),
    ])
  }

  /// The settings that decide the tokens: `strategy` ("greedy", "beam_search" or "sampling"),
  /// `beams` (beam search only), `propagations` per layer over the prompt (2 is TroL),
  /// `max_new_tokens` and `traverse_generated_tokens`.
  static func generation(_ options: GenerationOptions) -> [JobJSON.Member] {
    let (strategy, beams): (String, Int?) =
      switch options.strategy {
      case .greedy: ("greedy", nil)
      case .beamSearch(let count): ("beam_search", count)
      case .sampling: ("sampling", nil)
      }
    let members: [JobJSON.Member?] = [
      .init("strategy", .string(strategy)),
      beams.map { .init("beams", .number(String($0))) },
      .init("propagations", .number(String(options.traversal.propagations))),
      .init("max_new_tokens", .number(String(options.maxNewTokens))),
      .init("traverse_generated_tokens", .bool(options.traversal.traverseGeneratedTokens)),
    ]
    return members.compactMap { $0 }
  }
}
