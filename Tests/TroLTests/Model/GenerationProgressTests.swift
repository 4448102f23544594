import Foundation
import Tensor
import Testing

@testable import TroL

/// A request's progress counter follows its generated tokens, for greedy and beam search, through
/// the generator and the engine.
@Suite struct GenerationProgressTests {
  @Test func theCounterEndsAtTheGeneratedLength() throws {
    let (_, model, image, ids) = try GenerationGoldenTests.setUp("internlm2")
    let greedy = GenerationProgress()
    let beams = GenerationProgress()
    #expect(greedy.generatedTokens == 0)
    let outputs = try Generator(model: model).generate([
      GenerationPrompt(
        tokens: ids, image: image, options: GenerationOptions(maxNewTokens: 7, stopTokenIDs: []),
        progress: greedy),
      GenerationPrompt(
        tokens: ids, image: image,
        options: GenerationOptions(
          strategy: .beamSearch(beams: 2), maxNewTokens: 5, stopTokenIDs: []),
        progress: beams),
    ])
    #expect(outputs[0].tokens.count == 7)
    #expect(greedy.generatedTokens == 7)
    #expect(outputs[1].tokens.count == 5)
    #expect(beams.generatedTokens == 5)
  }

  @Test func theEnginePassesItThrough() throws {
    let fixture = try GoldenFixture("phi3")
    let engine = try TroLEngine.load(modelDirectory: fixture.modelDirectory.path)
    let progress = GenerationProgress()
    let result = try engine.answer(
      AnswerRequest(
        image: .file(path: fixture.directory.appendingPathComponent("image.png").path),
        question: "What is it?", options: GenerationOptions(maxNewTokens: 6), progress: progress))
    #expect(progress.generatedTokens == result.tokenIDs.count)
    #expect(progress.generatedTokens >= 1)
  }
}
