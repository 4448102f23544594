import Foundation
import Tensor
import Testing

@testable import TroL

/// Greedy, beam search and the no-cache ablation against the official code's generations, for both
/// families; batching and prefix sharing against single runs.
@Suite struct GenerationGoldenTests {
  static let families = ["internlm2", "phi3"]

  /// The fixture's model, its image features and prompt ids.
  static func setUp(_ family: String) throws -> (GoldenFixture, TroLModel, ImageFeatures, [Int]) {
    let fixture = try GoldenFixture(family)
    let model = try fixture.model()
    let pixels = try fixture.floats("pixel_values")
    let values = try pixels.withUnsafeBufferPointer { try model.imageFeatures(pixels: $0) }
    let image = ImageFeatures(values: values, rows: values.count / model.shape.hidden)
    return (fixture, model, image, try fixture.ints("input_ids"))
  }

  @Test(arguments: families)
  func greedyMatchesReference(family: String) throws {
    let (fixture, model, image, ids) = try Self.setUp(family)
    let generator = Generator(model: model)
    generator.recordLogits = true
    let output = try generator.generate([
      GenerationPrompt(tokens: ids, image: image, options: GenerationOptions(maxNewTokens: 16))
    ])[0]
    #expect(output.tokens == (try fixture.ints("greedy.ids")))
    #expect(
      relativeError(
        output.stepLogits!, try fixture.floats("greedy.logits"), "\(family) greedy logits") < 1e-4)
  }

  @Test(arguments: families)
  func beamSearchMatchesReference(family: String) throws {
    let (fixture, model, image, ids) = try Self.setUp(family)
    let output = try Generator(model: model).generate([
      GenerationPrompt(
        tokens: ids, image: image,
        options: GenerationOptions(strategy: .beamSearch(beams: 5), maxNewTokens: 8))
    ])[0]
    #expect(output.tokens == (try fixture.ints("beam.ids")))
    let beam = fixture.expected["beam"] as! [String: Any]
    let score = beam["sequences_score"] as! Double
    #expect(abs(output.beamScore! - score) < 1e-4)
    let allIDs = try fixture.ints("beam.all_ids")
    let ranked = output.beamHypotheses.map(\.tokens)
    for (i, hypothesis) in ranked.enumerated() {
      #expect(hypothesis == Array(allIDs[(i * 8)..<(i * 8 + 8)]), "beam \(i)")
    }
  }

  @Test(arguments: families)
  func traversingGeneratedTokensMatchesNoCacheEmulation(family: String) throws {
    let (fixture, model, image, ids) = try Self.setUp(family)
    let generator = Generator(model: model)
    generator.recordLogits = true
    let options = GenerationOptions(
      maxNewTokens: 16, traversal: TraversalPolicy(propagations: 2, traverseGeneratedTokens: true))
    let output = try generator.generate([
      GenerationPrompt(tokens: ids, image: image, options: options)
    ])[0]
    #expect(output.tokens == (try fixture.ints("nocache.ids")))
    #expect(
      relativeError(
        output.stepLogits!, try fixture.floats("nocache.logits"), "\(family) nocache logits") < 1e-4
    )
  }

  @Test(arguments: families)
  func batchOfThreeEqualsSingleRuns(family: String) throws {
    let (_, model, image, ids) = try Self.setUp(family)
    // Three different prompts: the fixture's, one with another question and a different image, and
    // a text-only one.
    let otherImage = ImageFeatures(values: image.values.map { -$0 * 0.5 }, rows: image.rows)
    let lastImage = ids.lastIndex(of: model.imageTokenID)!
    var second = ids
    for i in (lastImage + 2)..<(ids.count - 6) { second[i] = (second[i] * 7 + 3) % 300 + 3 }
    let textOnly = Array(ids[0..<(lastImage - image.rows + 1)]) + Array(ids[(lastImage + 1)...])
    let prompts = [
      GenerationPrompt(tokens: ids, image: image, options: GenerationOptions(maxNewTokens: 10)),
      GenerationPrompt(
        tokens: second, image: otherImage, options: GenerationOptions(maxNewTokens: 12)),
      GenerationPrompt(
        tokens: textOnly, image: nil,
        options: GenerationOptions(strategy: .beamSearch(beams: 3), maxNewTokens: 6)),
    ]
    let batched = Generator(model: model)
    batched.recordLogits = true
    let together = try batched.generate(prompts)
    for (i, prompt) in prompts.enumerated() {
      let single = Generator(model: model)
      single.recordLogits = true
      let alone = try single.generate([prompt])[0]
      #expect(together[i].tokens == alone.tokens, "prompt \(i)")
      #expect(
        relativeError(together[i].stepLogits!, alone.stepLogits!, "\(family) batch prompt \(i)")
          < 1e-5)
    }
  }

  @Test(arguments: families)
  func fourQuestionsOnOneImageShareTheirPrefix(family: String) throws {
    let (_, model, image, ids) = try Self.setUp(family)
    let lastImage = ids.lastIndex(of: model.imageTokenID)!
    let prompts = (0..<4).map { k -> GenerationPrompt in
      var tokens = ids
      for i in (lastImage + 2)..<(ids.count - 6) { tokens[i] = (tokens[i] * (k + 2) + k) % 300 + 3 }
      if k == 3 { tokens.insert(contentsOf: [40, 41, 42], at: lastImage + 3) }
      let strategy: GenerationOptions.Strategy = k == 2 ? .beamSearch(beams: 3) : .greedy
      return GenerationPrompt(
        tokens: tokens, image: image,
        options: GenerationOptions(strategy: strategy, maxNewTokens: 10))
    }
    let shared = Generator(model: model)
    shared.recordLogits = true
    let together = try shared.generate(prompts)
    // The prefix (system prompt and image) was computed once: each prompt prefilled only its suffix.
    for (output, prompt) in zip(together, prompts) {
      #expect(output.prefilledTokens < prompt.tokens.count - lastImage)
    }
    for (i, prompt) in prompts.enumerated() {
      let single = Generator(model: model)
      single.recordLogits = true
      let alone = try single.generate([prompt])[0]
      #expect(alone.prefilledTokens == prompt.tokens.count)
      #expect(together[i].tokens == alone.tokens, "question \(i)")
      #expect(
        relativeError(
          together[i].stepLogits!, alone.stepLogits!, "\(family) shared prefix question \(i)")
          < 1e-5)
    }
  }

  @Test func threePropagationsRunAndDifferFromTwo() throws {
    let (_, model, image, ids) = try Self.setUp("internlm2")
    let two = try Generator(model: model).generate([
      GenerationPrompt(tokens: ids, image: image, options: GenerationOptions(maxNewTokens: 4))
    ])[0]
    let generator = Generator(model: model)
    generator.recordLogits = true
    let three = try generator.generate([
      GenerationPrompt(
        tokens: ids, image: image,
        options: GenerationOptions(maxNewTokens: 4, traversal: TraversalPolicy(propagations: 3)))
    ])[0]
    #expect(three.tokens.count == 4)
    let finite = three.stepLogits!.allSatisfy { $0.isFinite }
    #expect(finite)
    let generator2 = Generator(model: model)
    generator2.recordLogits = true
    let twoLogits = try generator2.generate([
      GenerationPrompt(tokens: ids, image: image, options: GenerationOptions(maxNewTokens: 4))
    ])[0].stepLogits!
    #expect(two.tokens.count == 4)
    #expect(zip(twoLogits, three.stepLogits!).contains { abs($0 - $1) > 1e-3 })
  }

  @Test func badRequestsThrowClearErrors() throws {
    let (_, model, image, ids) = try Self.setUp("internlm2")
    let generator = Generator(model: model)
    #expect(throws: TroLError.self) {
      try generator.generate([
        GenerationPrompt(tokens: [], image: nil, options: GenerationOptions())
      ])
    }
    #expect(throws: TroLError.self) {
      try generator.generate([
        GenerationPrompt(tokens: ids, image: nil, options: GenerationOptions())
      ])
    }
    #expect(throws: TroLError.self) {
      try generator.generate([
        GenerationPrompt(tokens: [1, 99_999], image: nil, options: GenerationOptions())
      ])
    }
    #expect(throws: TroLError.self) {
      try generator.generate([
        GenerationPrompt(
          tokens: ids, image: image,
          options: GenerationOptions(
            strategy: .sampling(temperature: 0, topP: 1, topK: nil, seed: 1)))
      ])
    }
  }

  @Test func samplingIsReproducibleBySeed() throws {
    let (_, model, image, ids) = try Self.setUp("phi3")
    func run(_ seed: UInt64) throws -> [Int] {
      try Generator(model: model).generate([
        GenerationPrompt(
          tokens: ids, image: image,
          options: GenerationOptions(
            strategy: .sampling(temperature: 1.5, topP: 0.95, topK: 50, seed: seed),
            maxNewTokens: 12))
      ])[0].tokens
    }
    let a = try run(7)
    #expect(a == (try run(7)))
    #expect(a != (try run(8)))
  }
}
