import Foundation
import JobQueue
import Testing
import TroL
import TrolleyJobContracts

@testable import TrolleyWorkers

/// `trolley worker --traversal`: the worker's mode reaches every job's generation options, and a
/// job answers what the engine answers with that mode.
@Suite struct TraversalSettingTests {
  private func settings(_ mode: TraversalMode, batchSize: Int = 1) throws -> EngineJobSettings {
    let engine = try #require(AnswerJobTests.engine, "the internlm2 fixture model must load")
    return EngineJobSettings(
      batch: EngineBatch(
        engine: engine, fetcher: ImageFetcher(policy: .unrestricted), modelName: "trol-tiny"),
      batchSize: batchSize, maxNewTokens: 6, traversal: TraversalPolicy(mode: mode))
  }

  @Test func everyJobsOptionsCarryTheWorkersTraversal() throws {
    for mode in TraversalMode.allCases {
      let settings = try settings(mode)
      #expect(try settings.options(maxNewTokens: nil, beams: nil).traversal.mode == mode)
      #expect(try settings.options(maxNewTokens: 3, beams: 2).traversal.mode == mode)
    }
  }

  @Test func answerJobsAnswerWithTheWorkersTraversal() async throws {
    let engine = try #require(AnswerJobTests.engine)
    let image = Fixtures.image("internlm2")
    let questions = ["What is in the image?", "Describe the shapes."]
    for mode in TraversalMode.allCases {
      let kind = AnswerJob(settings: try settings(mode, batchSize: 2))
      let payloads = try questions.map { question in
        try JSONDecoder().decode(
          AnswerJob.Payload.self,
          from: try JSONSerialization.data(withJSONObject: ["image": image, "question": question]))
      }
      let results = await kind.run(
        batch: payloads.enumerated().map {
          (
            $0.element,
            JobContext(jobID: Int64($0.offset), queue: "default", attempt: 1, batchID: nil)
          )
        })
      for (index, question) in questions.enumerated() {
        let direct = try engine.answer(
          AnswerRequest(
            image: .file(path: image), question: question,
            options: GenerationOptions(maxNewTokens: 6, traversal: TraversalPolicy(mode: mode))))
        let result = try results[index].get()
        #expect(result.answer == direct.answer, "\(mode) \(question)")
        #expect(result.tokens == direct.tokenIDs.count, "\(mode) \(question)")
      }
    }
  }
}
