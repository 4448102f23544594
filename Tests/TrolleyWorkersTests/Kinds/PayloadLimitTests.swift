import Foundation
import JobQueue
import Testing
import TroL
import TrolleyBasics
import TrolleyJobContracts
import TrolleyWorkers

/// Payload fields that size the engine's caches are bounded: an out-of-range one fails its own
/// job as an invalid payload, never the worker or the rest of the batch.
@Suite struct PayloadLimitTests {
  private func settings() throws -> EngineJobSettings {
    let engine = try #require(AnswerJobTests.engine, "the internlm2 fixture model must load")
    return EngineJobSettings(
      batch: EngineBatch(
        engine: engine, fetcher: ImageFetcher(policy: .unrestricted), modelName: "trol-tiny"),
      batchSize: 4, maxNewTokens: 4)
  }

  private func context(_ id: Int64) -> JobContext {
    JobContext(jobID: id, queue: "default", attempt: 1, batchID: nil)
  }

  private func decode<P: Decodable>(_ type: P.Type, _ object: [String: Any]) throws -> P {
    try JSONDecoder().decode(P.self, from: try JSONSerialization.data(withJSONObject: object))
  }

  @Test func answerJobsOutsideTheLimitsAreInvalidPayloads() async throws {
    let image = Fixtures.image("internlm2")
    let payloads: [[String: Any]] = [
      ["image": image, "question": "Which shapes?", "max_new_tokens": 100_000_000_000],
      ["image": image, "question": "Which shapes?", "max_new_tokens": 0],
      ["image": image, "question": "Which shapes?", "beams": 64],
      ["image": image, "question": "Which shapes?", "max_new_tokens": 3, "beams": 2],
      ["image": image, "question": "Which shapes?", "max_new_tokens": 4096, "beams": 4],
    ]
    let kind = AnswerJob(settings: try settings())
    let results = await kind.run(
      batch: try payloads.enumerated().map {
        (try decode(AnswerJob.Payload.self, $0.element), context(Int64($0.offset)))
      })
    let fields = [(0, "max_new_tokens"), (1, "max_new_tokens"), (2, "beams"), (4, "beams ×")]
    for (index, field) in fields {
      switch results[index] {
      case .success: Issue.record("job \(index) ran")
      case .failure(let error):
        let failure = try #require(error as? JobFailure)
        #expect(failure.code == .invalidPayload)
        #expect(failure.message.hasPrefix(field), "\(failure.message)")
      }
    }
    #expect(try results[3].get().tokens <= 3)
  }

  @Test func captionJobsOutsideTheLimitsAreInvalidPayloads() async throws {
    let image = Fixtures.image("internlm2")
    let kind = CaptionJob(settings: try settings())
    let results = await kind.run(batch: [
      (try decode(CaptionJob.Payload.self, ["image": image, "max_new_tokens": 5000]), context(1)),
      (try decode(CaptionJob.Payload.self, ["image": image]), context(2)),
    ])
    #expect(throws: JobFailure(.invalidPayload, "")) { try results[0].get() }
    let caption = try results[1].get()
    #expect(caption.prompt == EngineJobSettings.defaultCaptionPrompt)
    #expect(caption.tokens >= 1 && caption.tokens <= 4)
  }
}
