import Foundation
import Tensor
import Testing
import TrolleyBasics

@testable import TroL

/// Cancelling one request of a batch: it ends with `.cancelled` at the next check (before a prefill
/// layer, before a decode step) and the other requests still equal their single runs.
@Suite struct CancellationTests {
  static let families = ["internlm2", "phi3"]

  /// Counts the forwards' trace events and cancels a flag at a chosen one, so a test can stop a
  /// request at an exact point of its generation without racing a thread.
  final class Trigger {
    private(set) var events: [String: Int] = [:]
    let flag: CancellationFlag
    let name: String
    let occurrence: Int

    /// Cancels `flag` when `name` is traced for the `occurrence`-th time (1-based).
    init(flag: CancellationFlag, name: String, occurrence: Int) {
      self.flag = flag
      self.name = name
      self.occurrence = occurrence
    }

    func tracer() -> Tracer {
      { [self] event, _, _ in
        events[event, default: 0] += 1
        if event == name && events[event] == occurrence { flag.cancel() }
      }
    }
  }

  /// Three prompts: two questions sharing the fixture's image (a shared prefix), one text-only.
  static func prompts(
    _ model: TroLModel, _ image: ImageFeatures, _ ids: [Int], cancellation: CancellationFlag?
  ) -> [GenerationPrompt] {
    let lastImage = ids.lastIndex(of: model.imageTokenID)!
    var second = ids
    for i in (lastImage + 2)..<(ids.count - 6) { second[i] = (second[i] * 5 + 1) % 300 + 3 }
    let textOnly = Array(ids[0..<(lastImage - image.rows + 1)]) + Array(ids[(lastImage + 1)...])
    // No stop tokens: every prompt runs to its length unless cancelled.
    let options = GenerationOptions(maxNewTokens: 12, stopTokenIDs: [])
    return [
      GenerationPrompt(tokens: ids, image: image, options: options, cancellation: cancellation),
      GenerationPrompt(tokens: second, image: image, options: options),
      GenerationPrompt(
        tokens: textOnly, image: nil,
        options: GenerationOptions(
          strategy: .beamSearch(beams: 2), maxNewTokens: 8, stopTokenIDs: [])),
    ]
  }

  static func alone(_ model: TroLModel, _ prompt: GenerationPrompt) throws -> [Int] {
    var single = prompt
    single.cancellation = nil
    return try Generator(model: model).generate([single])[0].tokens
  }

  @Test(arguments: families)
  func cancellingDuringDecodeStopsOnlyThatPrompt(family: String) throws {
    let (_, model, image, ids) = try GenerationGoldenTests.setUp(family)
    let flag = CancellationFlag()
    let prompts = Self.prompts(model, image, ids, cancellation: flag)
    let generator = Generator(model: model)
    // Forwards so far: the shared prefix, the suffixes (with the text-only prompt), then one per
    // decode step; cancel while the fourth computes its logits.
    let trigger = Trigger(flag: flag, name: "logits", occurrence: 4)
    generator.runner.tracer = trigger.tracer()
    let outputs = try generator.generate(prompts)
    #expect(outputs[0].finishReason == .cancelled)
    #expect(outputs[0].tokens.count >= 1 && outputs[0].tokens.count < 12)
    generator.runner.tracer = nil
    for i in 1..<prompts.count {
      #expect(outputs[i].finishReason == .length, "prompt \(i)")
      #expect(outputs[i].tokens == (try Self.alone(model, prompts[i])), "prompt \(i)")
    }
  }

  @Test(arguments: families)
  func cancellingDuringPrefillStopsBeforeTheNextLayer(family: String) throws {
    let (fixture, model, image, ids) = try GenerationGoldenTests.setUp(family)
    #expect(model.shape.layers >= 2)
    let flag = CancellationFlag()
    let generator = Generator(model: model)
    let trigger = Trigger(flag: flag, name: "a", occurrence: 1)
    generator.runner.tracer = trigger.tracer()
    let output = try generator.generate([
      GenerationPrompt(
        tokens: ids, image: image, options: GenerationOptions(maxNewTokens: 16),
        cancellation: flag)
    ])[0]
    #expect(output.finishReason == .cancelled)
    #expect(output.tokens.isEmpty)
    // Layer 0's first pass ran; the forward stopped before layer 1 and computed no logits.
    #expect(trigger.events["a"] == 1)
    #expect(trigger.events["logits"] == nil)
    // The stopped forward left nothing behind: the same generator still matches the reference.
    generator.runner.tracer = nil
    let again = try generator.generate([
      GenerationPrompt(tokens: ids, image: image, options: GenerationOptions(maxNewTokens: 16))
    ])[0]
    #expect(again.tokens == (try fixture.ints("greedy.ids")))
  }

  @Test func aForwardSharedWithAnOpenPromptIsNotStopped() throws {
    let (_, model, image, ids) = try GenerationGoldenTests.setUp("internlm2")
    let flag = CancellationFlag()
    var prompts = Self.prompts(model, image, ids, cancellation: flag)
    // Different images: no shared prefix, so both prompts run in one prefill forward.
    prompts[1].image = ImageFeatures(values: image.values.map { $0 * 0.5 }, rows: image.rows)
    let generator = Generator(model: model)
    let trigger = Trigger(flag: flag, name: "a", occurrence: 1)
    generator.runner.tracer = trigger.tracer()
    let outputs = try generator.generate(Array(prompts[0..<2]))
    #expect(trigger.events["a", default: 0] > model.shape.layers)
    #expect(outputs[0].finishReason == .cancelled)
    #expect(outputs[0].tokens.isEmpty)
    generator.runner.tracer = nil
    #expect(outputs[1].tokens == (try Self.alone(model, prompts[1])))
  }

  @Test(arguments: families)
  func theEngineReportsACancelledRequestAndAnswersTheRest(family: String) throws {
    let fixture = try GoldenFixture(family)
    let engine = try TroLEngine.load(modelDirectory: fixture.modelDirectory.path, weights: .f32)
    let image = AnswerRequest.Image.file(
      path: fixture.directory.appendingPathComponent("image.png").path)
    let options = GenerationOptions(maxNewTokens: 6)
    let cancelled = CancellationFlag()
    cancelled.cancel()
    let requests = [
      AnswerRequest(
        image: image, question: "What colour is the disc?", options: options,
        cancellation: cancelled),
      AnswerRequest(
        image: image, question: "How many shapes?", options: options,
        cancellation: CancellationFlag()),
      AnswerRequest(image: nil, question: "Hello", options: options),
    ]
    let results = engine.answer(requests: requests)
    #expect(results.count == 3)
    guard case .failure(let error) = results[0] else {
      Issue.record("the cancelled request succeeded")
      return
    }
    #expect(error.code == .cancelled)
    #expect(error.message.contains("cancelled"))
    for i in 1..<3 {
      var single = requests[i]
      single.cancellation = nil
      #expect(try results[i].get().tokenIDs == (try engine.answer(single).tokenIDs), "request \(i)")
    }
  }
}
