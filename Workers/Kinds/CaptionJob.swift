import Foundation
import JobQueue
public import TroL
public import TrolleyJobContracts

/// `trol.caption`: image -> caption, with the payload's prompt or the worker's default one.
public struct CaptionJob: JobKind {
  /// As `trolley enqueue caption` writes it (the shared contract, docs/cli.md).
  public typealias Payload = TrolCaption.Payload
  public typealias Result = TrolCaption.Result

  public static let name = TrolCaption.name
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
    var results = [Swift.Result<Result, any Error>?](repeating: nil, count: batch.count)
    var items: [EngineBatch.Item] = []
    var positions: [Int] = []
    for (index, job) in batch.enumerated() {
      let prompt = job.payload.prompt?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
      do {
        let options = try settings.options(maxNewTokens: job.payload.maxNewTokens, beams: nil)
        items.append(
          EngineBatch.Item(
            image: job.payload.image, question: prompt.isEmpty ? settings.captionPrompt : prompt,
            options: options, cancellation: job.context.engineCancellation(),
            progress: job.context.engineProgress(maxNewTokens: options.maxNewTokens)))
        positions.append(index)
      } catch {
        results[index] = .failure(error)
      }
    }
    let answers = await settings.batch.run(items)
    for (k, index) in positions.enumerated() {
      let prompt = items[k].question
      results[index] = answers[k].map { answer in
        Result(
          caption: answer.answer, prompt: prompt, model: settings.batch.modelName,
          tokens: answer.tokenIDs.count, finishReason: answer.finishReason,
          timings: answer.timings.resultJSON)
      }.mapError { $0 }
    }
    return results.map { $0! }
  }
}
