import Foundation
import Tensor
import Testing
import TrolleyBasics

@testable import TroL

/// A request whose prompt plus new tokens exceed the model's positions fails alone with a clear
/// error, before any cache is reserved for it (an absurd limit used to abort in the allocator).
@Suite struct RequestLengthTests {
  @Test func anOverlongRequestFailsAloneAndTheRestOfTheBatchIsAnswered() throws {
    let fixture = try GoldenFixture("internlm2")
    let engine = try TroLEngine.load(modelDirectory: fixture.modelDirectory.path, weights: .f32)
    let image = AnswerRequest.Image.file(
      path: fixture.directory.appendingPathComponent("image.png").path)
    let positions = engine.model.decoder.maxPositions
    let good = AnswerRequest(
      image: image, question: "How many shapes?", options: GenerationOptions(maxNewTokens: 5))
    let results = engine.answer(requests: [
      AnswerRequest(
        image: image, question: "What colour is the disc?",
        options: GenerationOptions(maxNewTokens: 1_000_000_000_000)),
      good,
      AnswerRequest(
        image: nil, question: "Hello", options: GenerationOptions(maxNewTokens: positions)),
    ])
    for index in [0, 2] {
      guard case .failure(let error) = results[index] else {
        Issue.record("request \(index) was answered")
        continue
      }
      #expect(error.code == .invalidRequest)
      #expect(error.message.contains("\(positions) positions"), "\(error.message)")
    }
    #expect(try results[1].get().tokenIDs == (try engine.answer(good).tokenIDs))
  }

  @Test func theGeneratorRefusesItToo() throws {
    let (_, model, image, ids) = try GenerationGoldenTests.setUp("phi3")
    let limit = model.decoder.maxPositions - ids.count
    #expect(throws: TroLError(.invalidRequest, "")) {
      try Generator(model: model).generate([
        GenerationPrompt(
          tokens: ids, image: image, options: GenerationOptions(maxNewTokens: limit + 1))
      ])
    }
    let message = #"ask for at most \#(limit) new tokens"#
    do {
      try Generator.checkLength(
        promptTokens: ids.count, options: GenerationOptions(maxNewTokens: limit + 1),
        maxPositions: model.decoder.maxPositions)
      Issue.record("accepted")
    } catch let error as TroLError {
      #expect(error.message.contains(message), "\(error.message)")
    }
    try Generator.checkLength(
      promptTokens: ids.count, options: GenerationOptions(maxNewTokens: limit),
      maxPositions: model.decoder.maxPositions)
  }
}
