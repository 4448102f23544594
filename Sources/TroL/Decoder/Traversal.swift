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

  public init(propagations: Int = 2, traverseGeneratedTokens: Bool = false) {
    precondition(propagations >= 1, "TraversalPolicy: at least one propagation")
    self.propagations = propagations
    self.traverseGeneratedTokens = traverseGeneratedTokens
  }

  /// The released TroL semantics.
  public static let trol = TraversalPolicy()
  /// Every layer once: the base model without the TroL-Mixer.
  public static let off = TraversalPolicy(propagations: 1)
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
