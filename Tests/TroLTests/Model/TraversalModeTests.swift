import Foundation
import Tensor
import Testing

@testable import TroL

/// `--traversal question` and `--traversal off` through the generator against references this test
/// computes by running the decoder's layers as each mode defines (docs/model.md, "Question-only
/// traversal"), for both fixture families.
///
/// The reference never uses the traversal code, cache parents or staged forwards: each layer runs
/// over the whole prompt at once. For question mode, pass 2 runs the layer over the prompt with the
/// layer's input x at the system prompt and image positions (so their keys and values are pass
/// 1's) and the pass-1 output a at the question's positions, keeping only the question's outputs;
/// the gate and the mix are computed in f64. Decode steps then run the layers once per token
/// against the reference's pass-1 cache.
@Suite struct TraversalModeTests {
  static let families = ["internlm2", "phi3"]
  static let steps = 4

  /// Last-row logits of the prompt and of `steps` greedy decode steps, the reference's way.
  static func reference(
    model: TroLModel, image: ImageFeatures, tokens: [Int], mode: TraversalMode, steps: Int
  ) -> (logits: [Float], tokens: [Int]) {
    let decoder = model.decoder
    let D = decoder.shape.hidden
    let V = decoder.shape.vocabulary
    let n = tokens.count
    let lastImage = tokens.lastIndex(of: model.imageTokenID)!
    // Question-only: positions after the last image token are traversed; `off`: none.
    let start = mode == .question ? lastImage + 1 : n
    let scratch = DecoderScratch(shape: decoder.shape)
    func makeCache(_ capacity: Int) -> KVCache {
      KVCache(
        layers: decoder.shape.layers, keyValueHeads: decoder.shape.keyValueHeads,
        headDim: decoder.shape.headDim, capacity: capacity)
    }
    let cache = makeCache(n + steps)
    let secondCache = makeCache(n)
    let isImage = { (i: Int) in tokens[i] == model.imageTokenID }
    let first = ForwardBatch()
    first.append(rows: n, caches: [cache], imageMask: isImage)
    let second = ForwardBatch()
    second.append(rows: n, caches: [secondCache], imageMask: isImage)
    scratch.reserve(for: first)
    /// One layer, pass-1 weights and caches of `batch` (the reference never uses pass 2's cache).
    func runLayer(_ l: Int, _ input: [Float], into output: inout [Float], batch: ForwardBatch) {
      input.withUnsafeBufferPointer { i in
        output.withUnsafeMutableBufferPointer { o in
          decoder.layer(
            l, i.baseAddress!, into: o.baseAddress!, batch: batch, pass: 0, scratch: scratch)
        }
      }
    }

    var x = [Float](repeating: 0, count: n * D)
    var featureRow = 0
    for i in 0..<n {
      if isImage(i) {
        for j in 0..<D { x[i * D + j] = image.values[featureRow * D + j] }
        featureRow += 1
      } else {
        x.withUnsafeMutableBufferPointer { decoder.embed(tokens[i], into: $0.baseAddress! + i * D) }
      }
    }
    var a = [Float](repeating: 0, count: n * D)
    var b = [Float](repeating: 0, count: n * D)
    let g = decoder.gate.weight.map(Double.init)
    let c = Double(decoder.gate.bias)
    for l in 0..<decoder.shape.layers {
      runLayer(l, x, into: &a, batch: first)
      if start < n {
        // Pass 2: the prefix keeps its layer input (its keys and values are pass 1's).
        var z = x
        for i in (start * D)..<(n * D) { z[i] = a[i] }
        runLayer(l, z, into: &b, batch: second)
        for r in start..<n {
          var dot = 0.0
          for j in 0..<D { dot += g[j] * Double(a[r * D + j]) }
          let w = 0.5 * Foundation.tanh(dot + c) + 0.5
          for j in 0..<D {
            a[r * D + j] = Float((1 - w) * Double(a[r * D + j]) + w * Double(b[r * D + j]))
          }
        }
      }
      swap(&x, &a)
    }
    cache.commit(n)

    var logits = [Float](repeating: 0, count: V)
    func lastLogits(_ h: [Float], row: Int) -> [Float] {
      h.withUnsafeBufferPointer { hidden in
        logits.withUnsafeMutableBufferPointer {
          decoder.logits(
            hidden.baseAddress! + row * D, rows: 1, into: $0.baseAddress!, scratch: scratch)
        }
      }
      return logits
    }
    var allLogits = lastLogits(x, row: n - 1)
    var generated: [Int] = []
    var token = Self.argmax(allLogits[...])
    generated.append(token)
    var h = [Float](repeating: 0, count: D)
    var y = [Float](repeating: 0, count: D)
    for _ in 1..<steps {
      let step = ForwardBatch()
      step.append(rows: 1, caches: [cache])
      h.withUnsafeMutableBufferPointer { decoder.embed(token, into: $0.baseAddress!) }
      for l in 0..<decoder.shape.layers {
        runLayer(l, h, into: &y, batch: step)
        swap(&h, &y)
      }
      cache.commit(1)
      let stepLogits = lastLogits(h, row: 0)
      allLogits += stepLogits
      token = Self.argmax(stepLogits[...])
      generated.append(token)
    }
    return (allLogits, generated)
  }

  static func argmax(_ values: ArraySlice<Float>) -> Int {
    var best = values.startIndex
    for i in values.indices where values[i] > values[best] { best = i }
    return best - values.startIndex
  }

  static func generate(
    _ model: TroLModel, _ prompts: [(tokens: [Int], image: ImageFeatures)], mode: TraversalMode,
    share: Bool = true
  ) throws -> [GenerationOutput] {
    let generator = Generator(model: model)
    generator.recordLogits = true
    generator.sharePrefixes = share
    // No stop tokens: every run makes exactly `steps` tokens.
    let options = GenerationOptions(
      maxNewTokens: steps, stopTokenIDs: [], traversal: TraversalPolicy(mode: mode))
    return try generator.generate(
      prompts.map { GenerationPrompt(tokens: $0.tokens, image: $0.image, options: options) })
  }

  @Test(arguments: families, [TraversalMode.question, .off])
  func modeMatchesLayerReference(family: String, mode: TraversalMode) throws {
    let (_, model, image, ids) = try GenerationGoldenTests.setUp(family)
    let output = try Self.generate(model, [(ids, image)], mode: mode)[0]
    let expected = Self.reference(
      model: model, image: image, tokens: ids, mode: mode, steps: Self.steps)
    #expect(output.tokens == expected.tokens, "\(family) \(mode) tokens")
    #expect(
      relativeError(output.stepLogits!, expected.logits, "\(family) \(mode) logits") < 1e-4)
  }

  /// `off` is the official code's forward without traversal (its golden first-step logits).
  @Test(arguments: families)
  func offMatchesOfficialNoTraversalLogits(family: String) throws {
    let (fixture, model, image, ids) = try GenerationGoldenTests.setUp(family)
    let output = try Self.generate(model, [(ids, image)], mode: .off)[0]
    let V = model.shape.vocabulary
    #expect(
      relativeError(
        Array(output.stepLogits![0..<V]), try fixture.floats("prefill_logits_last_no_traversal"),
        "\(family) off vs official") < 1e-4)
  }

  /// The three modes are different computations: question mode differs from both `all` and `off`
  /// (its first logits), and `all` still gives the official traversed logits.
  @Test(arguments: families)
  func modesDiffer(family: String) throws {
    let (fixture, model, image, ids) = try GenerationGoldenTests.setUp(family)
    let V = model.shape.vocabulary
    let first = { (mode: TraversalMode) in
      Array(try Self.generate(model, [(ids, image)], mode: mode)[0].stepLogits![0..<V])
    }
    let all = try first(.all)
    let question = try first(.question)
    let off = try first(.off)
    #expect(
      relativeError(all, try fixture.floats("prefill_logits_last"), "\(family) all vs official")
        < 1e-4)
    // `all` is the unchanged whole-prompt forward, bit for bit.
    let runner = DecoderRunner(decoder: model.decoder, imageTokenID: model.imageTokenID)
    let caches = [runner.makeCache(capacity: ids.count), runner.makeCache(capacity: ids.count)]
    let direct = try image.values.withUnsafeBufferPointer {
      Array(
        try runner.forward(
          [SequenceInput(tokens: ids[...], imageFeatures: $0, caches: caches)], passes: 2))
    }
    #expect(all == direct, "\(family) all is the whole-prompt traversed forward")
    #expect(relativeError(question, all, "\(family) question vs all") > 1e-3)
    #expect(relativeError(question, off, "\(family) question vs off") > 1e-3)
  }

  /// Questions on one image share its single-pass prefix: the same tokens and logits as each
  /// question alone, for two questions that differ after the image.
  @Test(arguments: families)
  func questionModeSharesTheImagePrefix(family: String) throws {
    let (_, model, image, ids) = try GenerationGoldenTests.setUp(family)
    let lastImage = ids.lastIndex(of: model.imageTokenID)!
    var other = ids
    // A different token after the image (never the image token itself: Phi-3's `</img>` is next
    // to `<IMG_CONTEXT>`).
    var replacement = (ids[lastImage + 1] + 1) % model.shape.vocabulary
    if replacement == model.imageTokenID {
      replacement = (replacement + 1) % model.shape.vocabulary
    }
    other[lastImage + 1] = replacement
    other.insert(ids[ids.count - 2], at: ids.count - 1)
    let shared = try Self.generate(model, [(ids, image), (other, image)], mode: .question)
    #expect(
      shared.map(\.prefilledTokens) == [ids.count - lastImage - 1, other.count - lastImage - 1])
    for (i, tokens) in [ids, other].enumerated() {
      let alone = try Self.generate(model, [(tokens, image)], mode: .question, share: false)[0]
      #expect(shared[i].tokens == alone.tokens, "\(family) question \(i) tokens")
      #expect(
        relativeError(shared[i].stepLogits!, alone.stepLogits!, "\(family) question \(i) shared")
          < 1e-5)
    }
    let expected = Self.reference(
      model: model, image: image, tokens: other, mode: .question, steps: Self.steps)
    #expect(shared[1].tokens == expected.tokens)
    #expect(
      relativeError(shared[1].stepLogits!, expected.logits, "\(family) shared vs reference") < 1e-4)
  }

  @Test func questionModeRefusesTraversingGeneratedTokens() {
    let options = GenerationOptions(
      traversal: TraversalPolicy(traverseGeneratedTokens: true, questionOnly: true))
    #expect(throws: TroLError.self) { try options.validate() }
  }

  @Test func policiesDecodeWithoutTheQuestionField() throws {
    let json = #"{"propagations":2,"traverseGeneratedTokens":false}"#
    let policy = try JSONDecoder().decode(TraversalPolicy.self, from: Data(json.utf8))
    #expect(policy == .trol)
    #expect(policy.mode == .all)
    #expect(TraversalPolicy(mode: .question).mode == .question)
    #expect(TraversalPolicy(mode: .off).mode == .off)
  }
}
