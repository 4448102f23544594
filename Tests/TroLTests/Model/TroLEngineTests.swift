import Foundation
import Tensor
import Testing

@testable import TroL

/// The public engine on the fixtures' model folders: image file and question in, the reference's
/// prompt ids and greedy tokens out.
@Suite struct TroLEngineTests {
  @Test(arguments: ["internlm2", "phi3"])
  func answersLikeTheReference(family: String) throws {
    let fixture = try GoldenFixture(family)
    let engine = try TroLEngine.load(modelDirectory: fixture.modelDirectory.path, weights: .f32)
    let question = try String(
      contentsOf: fixture.directory.appendingPathComponent("question.txt"), encoding: .utf8)
    let image = AnswerRequest.Image.file(
      path: fixture.directory.appendingPathComponent("image.png").path)
    let eos = engine.model.eosTokenID
    let request = AnswerRequest(
      image: image, question: question,
      options: GenerationOptions(maxNewTokens: 16, stopTokenIDs: [eos]))
    let result = try engine.answer(request)
    #expect(result.promptTokenIDs == (try fixture.ints("input_ids")))
    #expect(result.tokenIDs == (try fixture.ints("greedy.ids")))
    let greedy = fixture.expected["greedy"] as! [String: Any]
    #expect(result.answer == greedy["output_filtering"] as! String)
    #expect(result.timings.decodeTokens == 16)
  }

  @Test func batchKeepsFailuresPerRequest() throws {
    let fixture = try GoldenFixture("internlm2")
    let engine = try TroLEngine.load(modelDirectory: fixture.modelDirectory.path, weights: .f16)
    let image = AnswerRequest.Image.file(
      path: fixture.directory.appendingPathComponent("image.png").path)
    let options = GenerationOptions(maxNewTokens: 5)
    let results = engine.answer(requests: [
      AnswerRequest(image: image, question: "What colour is the disc?", options: options),
      AnswerRequest(
        image: .encoded([0x89, 0x50, 0x4E, 0x47, 1, 2, 3]), question: "Broken image?",
        options: options),
      AnswerRequest(image: image, question: "How many shapes?", options: options),
      AnswerRequest(image: nil, question: "Hello", options: options),
    ])
    #expect(results.count == 4)
    #expect((try? results[0].get()) != nil)
    #expect((try? results[1].get()) == nil)
    #expect((try? results[2].get()) != nil)
    #expect((try? results[3].get()) != nil)
    // The two questions on one image shared the system prompt and image prefix.
    let first = try results[0].get()
    #expect(first.timings.prefillTokens < first.promptTokenIDs.count)
    // Each batched answer equals the same request alone.
    let alone = try engine.answer(
      AnswerRequest(image: image, question: "How many shapes?", options: options))
    #expect(alone.tokenIDs == (try results[2].get()).tokenIDs)
  }
}
