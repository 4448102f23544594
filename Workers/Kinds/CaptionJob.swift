import Foundation
import JobQueue
public import TroL

/// `trol.caption`: image -> caption, with the payload's prompt or the worker's default one.
public struct CaptionJob: JobKind {
  /// As `trolley enqueue caption` writes it (docs/cli.md).
  public struct Payload: Decodable, Sendable {
    /// A local path, `file://` or `http(s)://` URL.
    public var image: String
    /// The caption instruction; the worker's `--caption-prompt` when absent or empty.
    public var prompt: String?
    public var id: String?
    public var maxNewTokens: Int?

    enum CodingKeys: String, CodingKey {
      case image, prompt, id
      case maxNewTokens = "max_new_tokens"
    }
  }

  public struct Result: Encodable, Sendable {
    public var caption: String
    public var prompt: String
    public var model: String
    public var tokens: Int
    public var finishReason: String
    public var timings: AnswerTimings
    /// The model, weights, generation settings and Trolley build that produced the result.
    public var provenance: ResultProvenance

    enum CodingKeys: String, CodingKey {
      case caption, prompt, model, tokens, timings, provenance
      case finishReason = "finish_reason"
    }
  }

  public static let name = "trol.caption"
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
          tokens: answer.tokenIDs.count, finishReason: answer.finishReason, timings: answer.timings,
          provenance: settings.batch.provenance(items[k].options))
      }.mapError { $0 }
    }
    return results.map { $0! }
  }
}
