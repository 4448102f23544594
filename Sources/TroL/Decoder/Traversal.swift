internal import Tensor

/// How layers are traversed: the one place for TroL's layer traversal, its gate and the KV-cache rule.
///
/// TroL (docs/model.md, "Traversal" and "KV cache"): for a forward over the prompt every layer runs twice,
/// a = L(x), b = L(a), and the token-wise gate w = 0.5·tanh(g·a + c) + 0.5 mixes them,
/// h = (1 − w)·a + w·b. Pass 2 uses the same positions and image mask and attends only within
/// itself (its own keys and values, never pass 1's). Only pass-1 keys and values are kept in the
/// KV cache; decode steps run each layer once.
public struct TraversalPolicy: Sendable, Hashable, Codable {
  /// Propagations per layer when a forward covers the prompt: 1 turns traversal off, 2 is TroL.
  /// More than 2 applies the mixer again: h₁ = L(x); hₖ = (1 − w)·hₖ₋₁ + w·L(hₖ₋₁) with w from hₖ₋₁
  /// (equal to TroL's rule for 2), each extra pass attending only within itself.
  public var propagations: Int
  /// Also traverse generated tokens, by re-running the whole sequence for every new token (what
  /// `use_cache=False` would mean; not the released semantics, kept as an ablation).
  public var traverseGeneratedTokens: Bool

  /// Traverse only the question: the positions after the prompt's last image token (with the
  /// default placement: the newline after the image, the question, the turn end and the assistant
  /// opener) run every propagation; the system prompt and the image run each layer once
  /// (docs/model.md, "Question-only traversal"). Off: every prompt position is traversed, as the
  /// official code does. A prompt without image tokens is traversed whole either way.
  public var questionOnly: Bool

  public init(
    propagations: Int = 2, traverseGeneratedTokens: Bool = false, questionOnly: Bool = false
  ) {
    precondition(propagations >= 1, "TraversalPolicy: at least one propagation")
    self.propagations = propagations
    self.traverseGeneratedTokens = traverseGeneratedTokens
    self.questionOnly = questionOnly
  }

  private enum CodingKeys: String, CodingKey {
    case propagations, traverseGeneratedTokens, questionOnly
  }

  /// Reads policies written before `questionOnly` existed as whole-prompt traversal.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    propagations = try container.decode(Int.self, forKey: .propagations)
    traverseGeneratedTokens = try container.decode(Bool.self, forKey: .traverseGeneratedTokens)
    questionOnly = try container.decodeIfPresent(Bool.self, forKey: .questionOnly) ?? false
  }

  /// The released TroL semantics.
  public static let trol = TraversalPolicy()
  /// The paper's inference rule: traversal over the question only.
  public static let question = TraversalPolicy(questionOnly: true)
  /// Every layer once: the base model without the TroL-Mixer.
  public static let off = TraversalPolicy(propagations: 1)

  /// The policy a `--traversal` mode names.
  public init(mode: TraversalMode) {
    switch mode {
    case .all: self = .trol
    case .question: self = .question
    case .off: self = .off
    }
  }

  /// The mode this policy is (nil for the ablations: other propagation counts, generated tokens).
  public var mode: TraversalMode? {
    if propagations == 1 { return .off }
    guard propagations == 2, !traverseGeneratedTokens else { return nil }
    return questionOnly ? .question : .all
  }

  /// The first prompt position that is traversed: 0 unless `questionOnly`, else the position after
  /// the last image token, kept below `tokens.count` so the last prompt row (whose logits give the
  /// first token) is always traversed.
  package func traversalStart(of tokens: [Int], imageTokenID: Int) -> Int {
    guard questionOnly, propagations > 1, let last = tokens.lastIndex(of: imageTokenID) else {
      return 0
    }
    return min(last + 1, tokens.count - 1)
  }
}

/// Where layers are traversed (`--traversal` on `ask`, `worker` and `bench engine`).
public enum TraversalMode: String, Sendable, Hashable, Codable, CaseIterable {
  /// Every prompt position, both passes: the official code's behaviour (the default).
  case all
  /// Both passes over the question's tokens only; the system prompt and image run once.
  case question
  /// Every layer once everywhere: the backbone without traversal.
  case off
}

/// Runs the decoder's layers over a batch with traversal.
enum Traversal {
  /// Runs all layers over `batch`, starting from the embeddings in `scratch.streams[0]`.
  ///
  /// - Parameters:
  ///   - passes: propagations per layer for this call (1 for decode steps); every slice of the
  ///     batch must carry one cache per pass. Pass 1's cache is the persistent KV cache; the caches of
  ///     later passes hold only what those passes attend to (kept by callers only to share a prefix).
  ///   - shouldStop: checked before each layer; when it says yes the forward ends there and
  ///     commits nothing (every sequence of the batch was cancelled).
  /// - Returns: the buffer holding the final residual stream [N, D], or nil when stopped.
  static func forward(
    _ decoder: some DecoderModel, batch: ForwardBatch, passes: Int, scratch: DecoderScratch,
    tracer: Tracer?, shouldStop: (() -> Bool)? = nil
  ) -> UnsafeMutablePointer<Float>? {
    let N = batch.rows
    let D = decoder.shape.hidden
    var x = scratch.streams[0]
    var current = scratch.streams[1]
    var next = scratch.streams[2]
    for l in 0..<decoder.shape.layers {
      if let shouldStop, shouldStop() { return nil }
      // a = L(x): the pass that fills the KV cache.
      decoder.layer(l, x, into: current, batch: batch, pass: 0, scratch: scratch)
      tracer?("a", l, UnsafeBufferPointer(start: current, count: N * D))
      for pass in 1..<max(passes, 1) {
        // b = L(a): same positions and image mask, attends only within this pass.
        decoder.layer(l, current, into: next, batch: batch, pass: pass, scratch: scratch)
        tracer?("b", l, UnsafeBufferPointer(start: next, count: N * D))
        // w = 0.5·tanh(g·a + c) + 0.5 per token; h = (1 − w)·a + w·b, written over b.
        for r in 0..<N {
          let w = decoder.gate.value(current + r * D)
          scratch.gates[r] = w
          mix(next + r * D, current + r * D, next + r * D, weight: w, count: D)
        }
        tracer?("w", l, UnsafeBufferPointer(start: scratch.gates, count: N))
        swap(&current, &next)
      }
      if passes > 1 { tracer?("h", l, UnsafeBufferPointer(start: current, count: N * D)) }
      // The layer's output becomes the next layer's input; the old input buffer is free.
      swap(&x, &current)
    }
    // Keys and values written by this call become visible to later calls.
    for slice in batch.slices {
      for pass in 0..<passes { slice.caches[pass].commit(slice.rows) }
    }
    return x
  }
}
