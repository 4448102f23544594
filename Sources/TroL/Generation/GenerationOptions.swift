import TrolleyBasics

/// How to pick the answer's tokens and when to stop.
public struct GenerationOptions: Sendable, Hashable, Codable {
  /// Token selection, with Hugging Face transformers 4.41 semantics.
  public enum Strategy: Sendable, Hashable, Codable {
    /// The most likely token each step (the official demo's default).
    case greedy
    /// Beam search with `beams` beams, length_penalty 1.0, early_stopping false, no sampling (the
    /// paper's benchmarks use 5 beams).
    case beamSearch(beams: Int)
    /// Sampling from softmax(logits / temperature) restricted to the `topK` most likely tokens
    /// (nil: all; Hugging Face's default is 50) and to the smallest set whose probability reaches
    /// `topP`, with a seeded generator (the same seed gives the same tokens).
    case sampling(temperature: Float, topP: Float, topK: Int?, seed: UInt64)
  }

  /// Default greedy.
  public var strategy: Strategy
  /// Most new tokens to generate. Default 256 (the official demo's value).
  public var maxNewTokens: Int
  /// Tokens that end the answer (included in the output ids, as Hugging Face does); nil means the
  /// model's eos `</s>`, which is what the released code stops on.
  public var stopTokenIDs: [Int]?
  /// Layer traversal (default: TroL's, two propagations over the prompt, none on new tokens).
  public var traversal: TraversalPolicy

  public init(
    strategy: Strategy = .greedy, maxNewTokens: Int = 256, stopTokenIDs: [Int]? = nil,
    traversal: TraversalPolicy = .trol
  ) {
    self.strategy = strategy
    self.maxNewTokens = maxNewTokens
    self.stopTokenIDs = stopTokenIDs
    self.traversal = traversal
  }

  /// Checks the settings, naming the one that is wrong.
  ///
  /// - Throws: `TroLError.invalidRequest`.
  public func validate() throws {
    guard maxNewTokens >= 1 else {
      throw TroLError(.invalidRequest, "max new tokens must be at least 1, got \(maxNewTokens)")
    }
    guard traversal.propagations >= 1, traversal.propagations <= 8 else {
      throw TroLError(
        .invalidRequest, "traversal propagations must be 1...8, got \(traversal.propagations)")
    }
    if traversal.questionOnly && traversal.traverseGeneratedTokens {
      throw TroLError(
        .invalidRequest,
        "question-only traversal and traversal of generated tokens exclude each other; choose one")
    }
    switch strategy {
    case .greedy: break
    case .beamSearch(let beams):
      guard beams >= 1, beams <= 64 else {
        throw TroLError(.invalidRequest, "beam count must be 1...64, got \(beams)")
      }
      if traversal.traverseGeneratedTokens {
        throw TroLError(
          .invalidRequest,
          "traversal of generated tokens is available with greedy and sampling only, not beam search"
        )
      }
    case .sampling(let temperature, let topP, let topK, _):
      guard temperature > 0, temperature.isFinite else {
        throw TroLError(.invalidRequest, "temperature must be positive, got \(temperature)")
      }
      guard topP > 0, topP <= 1 else {
        throw TroLError(.invalidRequest, "top-p must be in (0, 1], got \(topP)")
      }
      if let topK, topK < 1 {
        throw TroLError(.invalidRequest, "top-k must be at least 1, got \(topK)")
      }
    }
  }
}
