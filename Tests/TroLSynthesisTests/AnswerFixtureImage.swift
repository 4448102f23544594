import Foundation
import TestFixtures
import TroL

/// Asks `engine` "What is this?" about the tiny InternLM2 fixture image: the question every
/// synthesized checkpoint must answer to count as loadable.
func answerFixtureImage(_ engine: TroLEngine, maxNewTokens: Int) throws -> AnswerResult {
  let image = AnswerRequest.Image.file(
    path: TestFixtures.trolTinyURL.appendingPathComponent("internlm2/image.png").path)
  return try engine.answer(
    AnswerRequest(
      image: image, question: "What is this?",
      options: GenerationOptions(maxNewTokens: maxNewTokens)))
}
