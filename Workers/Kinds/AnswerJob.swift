import Foundation
import JobQueue
public import TroL
public import TrolleyJobContracts

/// `trol.answer`: image + question -> answer, through TroL, several jobs per engine batch.
public struct AnswerJob: JobKind {
  /// As `trolley enqueue answer` writes it (the shared contract, docs/cli.md).
  public typealias Payload = TrolAnswer.Payload
  public typealias Result = TrolAnswer.Result

  public static let name = TrolAnswer.name
  public let settings: EngineJobSettings
  public var maxBatchSize: Int { settings.batchSize }

  public init(settings: EngineJobSettings) {
    self.settings = settings
  }

  public func run(_ payload: Payload, context: JobContext) async throws -> Result {
    try await run(batch: [(payload, context)])[0].get()
  }

  public func run(batch: [(payload: Payload, context: JobContext)]) async -> [Swift.Result<
    Result, any Error
  >] {
    var items: [EngineBatch.Item] = []
    var results = [Swift.Result<Result, any Error>?](repeating: nil, count: batch.count)
    var positions: [Int] = []
    for (index, job) in batch.enumerated() {
      if job.payload.question.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
        results[index] = .failure(JobFailure(.invalidPayload, "trol.answer: the question is empty"))
        continue
      }
      let options: GenerationOptions
      do {
        options = try settings.options(
          maxNewTokens: job.payload.maxNewTokens, beams: job.payload.beams)
      } catch {
        results[index] = .failure(error)
        continue
      }
      items.append(
        EngineBatch.Item(
          image: job.payload.image, question: job.payload.question, options: options,
          cancellation: job.context.engineCancellation(),
          progress: job.context.engineProgress(maxNewTokens: options.maxNewTokens)))
      positions.append(index)
    }
    let answers = await settings.batch.run(items)
    for (k, index) in positions.enumerated() {
      results[index] = answers[k].map { answer in
        Result(
          answer: answer.answer, model: settings.batch.modelName, tokens: answer.tokenIDs.count,
          finishReason: answer.finishReason, timings: answer.timings.resultJSON)
      }.mapError { $0 }
    }
    return results.map { $0! }
  }
}
