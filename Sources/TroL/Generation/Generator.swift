internal import Foundation
internal import Tensor
import TrolleyBasics

/// Generates continuations for several prompts at once.
///
/// Prefill: prompts that carry the same image and share their first tokens (system prompt and
/// image) compute that prefix once, keeping every propagation pass's keys and values for it; each
/// prompt then runs only its own suffix, attending to the prefix through its caches' parent chain.
/// The remaining prompts are prefilled in forwards of up to `prefillRowBudget` rows.
///
/// Decode: every open sequence (each prompt, or each beam of a beam search) contributes one row to
/// a single forward per step, so each weight is read once per step for the whole batch. Results do
/// not depend on what else is in the batch: every row attends only to its own caches.
package final class Generator {
  let model: TroLModel
  let runner: DecoderRunner
  /// Rows per prefill forward when several prompts are combined (a single longer prompt runs alone).
  var prefillRowBudget = 2048
  /// Whether prompts sharing an image and a prefix compute it once.
  package var sharePrefixes = true
  /// Record each step's logits in the outputs (tests and `trolley bench quality`; costs V floats
  /// per token).
  package var recordLogits = false

  package init(model: TroLModel) {
    self.model = model
    runner = DecoderRunner(decoder: model.decoder, imageTokenID: model.imageTokenID)
  }

  /// What one prompt needs during generation.
  private final class Sequence {
    let prompt: GenerationPrompt
    let stopTokens: Set<Int>
    var caches: [KVCache] = []
    var sampler: TokenSampler
    var beam: BeamSearch?
    var beamCaches: [KVCache] = []
    var spareBeamCaches: [KVCache] = []
    var tokens: [Int] = []
    var finish: GenerationOutput.FinishReason?
    var prefillSeconds = 0.0
    var decodeSeconds = 0.0
    var prefilledTokens = 0
    var logits: [Float] = []

    init(prompt: GenerationPrompt, eos: Int) {
      self.prompt = prompt
      stopTokens = Set(prompt.options.stopTokenIDs ?? [eos])
      sampler = TokenSampler(strategy: prompt.options.strategy)
      if case .beamSearch(let beams) = prompt.options.strategy {
        beam = BeamSearch(
          beams: beams, stopTokens: stopTokens, maxNewTokens: prompt.options.maxNewTokens)
      }
    }

    var passes: Int { prompt.options.traversal.propagations }
    var isOpen: Bool { finish == nil }

    /// Ends an open sequence whose cancellation flag is set; true if it is (now) cancelled.
    @discardableResult func stopIfCancelled() -> Bool {
      if finish == nil, let flag = prompt.cancellation, flag.isCancelled { finish = .cancelled }
      return finish == .cancelled
    }
  }

  /// Generates for every prompt; outputs are in prompt order. A prompt whose cancellation flag is
  /// set stops at the next check (before each prefill layer, before each decode step) with
  /// `.cancelled`; the others' outputs do not change.
  ///
  /// - Throws: `invalidRequest` for bad options or prompts (empty, longer than the model's
  ///   positions with its new tokens, ids out of range, image features that do not match the
  ///   placeholders).
  package func generate(_ prompts: [GenerationPrompt]) throws -> [GenerationOutput] {
    for prompt in prompts {
      try prompt.options.validate()
      guard !prompt.tokens.isEmpty else {
        throw TroLError(.invalidRequest, "a prompt has no tokens")
      }
      try Self.checkLength(
        promptTokens: prompt.tokens.count, options: prompt.options,
        maxPositions: model.decoder.maxPositions)
      let imageTokens = prompt.tokens.reduce(0) { $0 + ($1 == model.imageTokenID ? 1 : 0) }
      guard imageTokens == (prompt.image?.rows ?? 0) else {
        throw TroLError(
          .invalidRequest,
          "the prompt has \(imageTokens) image tokens but the image gives \(prompt.image?.rows ?? 0) features"
        )
      }
    }
    let sequences = prompts.map { Sequence(prompt: $0, eos: model.eosTokenID) }
    let recomputing = sequences.filter { $0.prompt.options.traversal.traverseGeneratedTokens }
    let cached = sequences.filter { !$0.prompt.options.traversal.traverseGeneratedTokens }
    try prefill(cached)
    try decode(cached)
    for sequence in recomputing { try generateRecomputing(sequence) }
    return sequences.map { s in
      let hypotheses = s.beam?.ranked.map { (tokens: $0.tokens, score: $0.score) } ?? []
      return GenerationOutput(
        tokens: s.tokens, finishReason: s.finish ?? .length, beamScore: s.beam?.best?.score,
        beamHypotheses: hypotheses, prefillSeconds: s.prefillSeconds,
        decodeSeconds: s.decodeSeconds,
        prefilledTokens: s.prefilledTokens, stepLogits: recordLogits ? s.logits : nil)
    }
  }

  /// Refuses a prompt whose tokens plus `maxNewTokens` exceed the model's positions: caches are
  /// reserved for that many positions up front, so an absurd limit must fail here, not in `malloc`.
  ///
  /// - Throws: `invalidRequest` naming the largest `maxNewTokens` that fits.
  static func checkLength(promptTokens: Int, options: GenerationOptions, maxPositions: Int) throws {
    guard options.maxNewTokens <= maxPositions - promptTokens else {
      throw TroLError(
        .invalidRequest,
        "the prompt's \(promptTokens) tokens plus up to \(options.maxNewTokens) new tokens exceed the model's \(maxPositions) positions; ask for at most \(max(maxPositions - promptTokens, 0)) new tokens"
      )
    }
  }

  // MARK: - Prefill

  /// A pending prefill forward input and the sequence whose first token it decides (nil for a
  /// shared prefix).
  private struct PrefillItem {
    var input: SequenceInput
    var owner: Sequence?
    var members: [Sequence]
  }

  private func prefill(_ sequences: [Sequence]) throws {
    var items: [PrefillItem] = []
    var prefixItems: [PrefillItem] = []
    var remaining = sequences
    if sharePrefixes {
      // Group by (image object, propagations, question-only, rope variant); a group of 2+ shares
      // its common prefix.
      var groups: [[Sequence]] = []
      var keys: [(ObjectIdentifier, Int, Bool, Int)] = []
      for s in sequences {
        guard let image = s.prompt.image else { continue }
        let key = (
          ObjectIdentifier(image), s.passes, s.prompt.options.traversal.questionOnly,
          model.decoder.ropeVariant(forSpan: s.prompt.tokens.count)
        )
        if let i = keys.firstIndex(where: { $0 == key }) {
          groups[i].append(s)
        } else {
          keys.append(key)
          groups.append([s])
        }
      }
      for group in groups where group.count >= 2 {
        let first = group[0].prompt.tokens
        var length = first.count
        for s in group.dropFirst() {
          let other = s.prompt.tokens
          var n = 0
          while n < min(length, other.count), first[n] == other[n] { n += 1 }
          length = n
        }
        // Every prompt keeps at least one token of its own (its last row gives its first logits),
        // and the prefix must hold all image tokens so suffixes need no features.
        length = min(length, group.map { $0.prompt.tokens.count }.min()! - 1)
        // Question-only traversal: the prefix is exactly the single-pass part (system prompt and
        // image), so every question traverses all of its own tokens.
        let traversalStart = group[0].prompt.options.traversal.traversalStart(
          of: first, imageTokenID: model.imageTokenID)
        if traversalStart > 0 { length = min(length, traversalStart) }
        let lastImage = first.lastIndex(of: model.imageTokenID) ?? -1
        guard length > lastImage, length > 0 else { continue }
        let passes = group[0].passes
        let prefixPasses = traversalStart > 0 ? 1 : passes
        let prefixCaches = (0..<prefixPasses).map { _ in runner.makeCache(capacity: length) }
        prefixItems.append(
          PrefillItem(
            input: SequenceInput(
              tokens: first[0..<length], imageFeatures: nil, caches: prefixCaches,
              ropeSpan: first.count),
            owner: nil, members: group))
        for s in group {
          let suffix = s.prompt.tokens.count - length
          if traversalStart > 0 {
            s.caches = [
              runner.makeCache(capacity: suffix + decodeCapacity(s), parent: prefixCaches[0])
            ]
            s.caches += questionPassCaches(s, rows: suffix)
          } else {
            s.caches = (0..<passes).map { p in
              runner.makeCache(
                capacity: suffix + (p == 0 ? decodeCapacity(s) : 0), parent: prefixCaches[p])
            }
          }
          s.prefilledTokens = suffix
          items.append(
            PrefillItem(
              input: SequenceInput(
                tokens: s.prompt.tokens[length...], imageFeatures: nil, caches: s.caches,
                ropeSpan: s.prompt.tokens.count),
              owner: s, members: [s]))
        }
        remaining.removeAll { s in group.contains { $0 === s } }
      }
    }
    for s in remaining {
      let n = s.prompt.tokens.count
      s.prefilledTokens = n
      let traversalStart = s.prompt.options.traversal.traversalStart(
        of: s.prompt.tokens, imageTokenID: model.imageTokenID)
      if traversalStart > 0 {
        // Question-only traversal: the system prompt and image in one single-pass forward (with
        // the shared prefixes, before everything else), then the question with every pass.
        s.caches = [runner.makeCache(capacity: n + decodeCapacity(s))]
        prefixItems.append(
          PrefillItem(
            input: SequenceInput(
              tokens: s.prompt.tokens[0..<traversalStart], imageFeatures: nil,
              caches: s.caches, ropeSpan: n),
            owner: nil, members: [s]))
        s.caches += questionPassCaches(s, rows: n - traversalStart)
        items.append(
          PrefillItem(
            input: SequenceInput(
              tokens: s.prompt.tokens[traversalStart...], imageFeatures: nil, caches: s.caches,
              ropeSpan: n),
            owner: s, members: [s]))
        continue
      }
      s.caches = (0..<s.passes).map { p in
        runner.makeCache(capacity: n + (p == 0 ? decodeCapacity(s) : 0))
      }
      items.append(
        PrefillItem(
          input: SequenceInput(tokens: s.prompt.tokens[...], imageFeatures: nil, caches: s.caches),
          owner: s, members: [s]))
    }
    // Shared prefixes first (their image features ride along), then everything else.
    try runPrefill(prefixItems, imageFrom: { $0.members[0].prompt.image })
    try runPrefill(items, imageFrom: { $0.owner?.prompt.image })
    // Pass-2+ caches are dropped here: only pass 1's keys and values persist (Traversal's rule).
    for s in sequences { s.caches = [s.caches[0]] }
  }

  /// The caches of passes 2+ for question-only traversal: `rows` positions of their own after the
  /// sequence's pass-1 cache as parent. The question's later passes thus attend to the system
  /// prompt and image through their cached pass-1 keys and values (what a decode step sees), and to
  /// the question's own keys and values of the same pass. The parent grows when the question's
  /// forward commits; these caches are dropped right after it.
  private func questionPassCaches(_ s: Sequence, rows: Int) -> [KVCache] {
    (1..<s.passes).map { _ in runner.makeCache(capacity: rows, parent: s.caches[0]) }
  }

  /// Room for generated tokens in a sequence's own pass-1 cache (beams keep theirs separately).
  private func decodeCapacity(_ s: Sequence) -> Int {
    s.beam == nil ? s.prompt.options.maxNewTokens : 0
  }

  /// Runs prefill items in forwards grouped by pass count and row budget.
  private func runPrefill(_ items: [PrefillItem], imageFrom: (PrefillItem) -> ImageFeatures?) throws
  {
    // Cancelled prompts are dropped before their forward; a prefix goes once all its users are.
    var pending = items.filter { item in
      !item.members.map { $0.stopIfCancelled() }.allSatisfy { $0 }
    }
    while !pending.isEmpty {
      let passes = pending[0].input.caches.count
      var chosen: [PrefillItem] = []
      var rows = 0
      var rest: [PrefillItem] = []
      for item in pending {
        let n = item.input.tokens.count
        if item.input.caches.count == passes, chosen.isEmpty || rows + n <= prefillRowBudget {
          chosen.append(item)
          rows += n
        } else {
          rest.append(item)
        }
      }
      pending = rest
      let start = Date()
      // Image features are needed only by inputs that contain image tokens.
      let images = chosen.map { item -> ImageFeatures? in
        item.input.tokens.contains(model.imageTokenID) ? imageFrom(item) : nil
      }
      // The forward can end early only if every prompt in it can be (and then was) cancelled.
      let flags = chosen.flatMap { $0.members.map(\.prompt.cancellation) }
      let shouldStop: (() -> Bool)? =
        flags.contains { $0 == nil } ? nil : { flags.allSatisfy { $0!.isCancelled } }
      let logits: [Float]
      do {
        logits = try withFeatures(images, 0, []) { pointers in
          var inputs = chosen.map(\.input)
          for i in inputs.indices { inputs[i].imageFeatures = pointers[i] }
          return Array(try runner.forward(inputs, passes: passes, shouldStop: shouldStop))
        }
      } catch let error as TroLError where error.code == .cancelled {
        for item in chosen { for member in item.members { member.stopIfCancelled() } }
        continue
      }
      let seconds = Date().timeIntervalSince(start)
      let V = model.shape.vocabulary
      for (i, item) in chosen.enumerated() {
        for member in item.members { member.prefillSeconds += seconds }
        guard let owner = item.owner, !owner.stopIfCancelled() else { continue }
        logits.withUnsafeBufferPointer { buffer in
          accept(owner, logits: UnsafeBufferPointer(rebasing: buffer[(i * V)..<((i + 1) * V)]))
        }
      }
    }
  }

  /// Calls `body` with stable pointers to each image's features (nil where there is none).
  private func withFeatures<R>(
    _ images: [ImageFeatures?], _ index: Int, _ pointers: [UnsafeBufferPointer<Float>?],
    _ body: ([UnsafeBufferPointer<Float>?]) throws -> R
  ) throws -> R {
    if index == images.count { return try body(pointers) }
    guard let image = images[index] else {
      return try withFeatures(images, index + 1, pointers + [nil], body)
    }
    return try image.values.withUnsafeBufferPointer {
      try withFeatures(images, index + 1, pointers + [$0], body)
    }
  }

  // MARK: - Decode

  /// Applies one step's logits to a sequence: picks the token (or advances the beams).
  private func accept(_ s: Sequence, logits: UnsafeBufferPointer<Float>) {
    let V = model.shape.vocabulary
    if recordLogits { s.logits += logits.prefix(V) }
    if var beam = s.beam {
      beam.step(logits: logits, vocabulary: V)
      s.beam = beam
      s.prompt.progress?.record(beamLength: beam.length)
      if beam.isDone {
        let best = beam.best
        s.tokens = best?.tokens ?? []
        s.finish = best?.endedWithStop == true ? .stopToken : .length
      } else {
        reorderBeamCaches(s, sources: beam.sourceBeams)
      }
      return
    }
    let token = s.sampler.next(logits)
    s.tokens.append(token)
    s.prompt.progress?.record(token: token, count: s.tokens.count)
    if s.stopTokens.contains(token) {
      s.finish = .stopToken
    } else if s.tokens.count >= s.prompt.options.maxNewTokens {
      s.finish = .length
    }
  }

  /// After a beam step: new beam i continues old beam sources[i], so it gets a copy of that beam's
  /// generated keys and values (the prompt's stay shared through the parent cache).
  private func reorderBeamCaches(_ s: Sequence, sources: [Int]) {
    let beams = sources.count
    if s.beamCaches.isEmpty {
      let capacity = s.prompt.options.maxNewTokens
      s.beamCaches = (0..<beams).map { _ in
        runner.makeCache(capacity: capacity, parent: s.caches[0])
      }
      s.spareBeamCaches = (0..<beams).map { _ in
        runner.makeCache(capacity: capacity, parent: s.caches[0])
      }
      return
    }
    for (i, source) in sources.enumerated() {
      s.spareBeamCaches[i].copyOwn(from: s.beamCaches[source])
    }
    swap(&s.beamCaches, &s.spareBeamCaches)
  }

  private func decode(_ sequences: [Sequence]) throws {
    let start = Date()
    var tokenBuffers: [[Int]] = []
    while true {
      for s in sequences where s.isOpen {
        if s.stopIfCancelled() { s.decodeSeconds = Date().timeIntervalSince(start) }
      }
      let open = sequences.filter(\.isOpen)
      if open.isEmpty { break }
      var inputs: [SequenceInput] = []
      tokenBuffers.removeAll(keepingCapacity: true)
      for s in open {
        if let beam = s.beam {
          for b in 0..<beam.beams {
            tokenBuffers.append([beam.sequences[b].last!])
            inputs.append(SequenceInput(tokens: tokenBuffers.last![...], caches: [s.beamCaches[b]]))
          }
        } else {
          tokenBuffers.append([s.tokens.last!])
          inputs.append(SequenceInput(tokens: tokenBuffers.last![...], caches: [s.caches[0]]))
        }
      }
      let logits = try runner.forward(inputs, passes: 1)
      let V = model.shape.vocabulary
      var row = 0
      for s in open {
        let rows = s.beam?.beams ?? 1
        accept(s, logits: UnsafeBufferPointer(rebasing: logits[(row * V)..<((row + rows) * V)]))
        row += rows
        if !s.isOpen { s.decodeSeconds = Date().timeIntervalSince(start) }
      }
    }
  }

  /// The ablation where generated tokens are traversed too: every step re-runs the whole sequence
  /// (prompt and the tokens so far) with traversal and fresh caches.
  private func generateRecomputing(_ s: Sequence) throws {
    let start = Date()
    var sequence = s.prompt.tokens
    let shouldStop: (() -> Bool)? = s.prompt.cancellation.map { flag in { flag.isCancelled } }
    while s.isOpen, !s.stopIfCancelled() {
      let caches = (0..<s.passes).map { _ in runner.makeCache(capacity: sequence.count) }
      let logits: [Float]
      do {
        logits = try withFeatures([s.prompt.image], 0, []) { pointers in
          Array(
            try runner.forward(
              [SequenceInput(tokens: sequence[...], imageFeatures: pointers[0], caches: caches)],
              passes: s.passes, shouldStop: shouldStop))
        }
      } catch let error as TroLError where error.code == .cancelled {
        s.stopIfCancelled()
        break
      }
      if s.tokens.isEmpty { s.prefillSeconds = Date().timeIntervalSince(start) }
      logits.withUnsafeBufferPointer { accept(s, logits: $0) }
      sequence.append(s.tokens.last!)
    }
    s.prefilledTokens = s.prompt.tokens.count
    s.decodeSeconds = Date().timeIntervalSince(start) - s.prefillSeconds
  }
}
