import Foundation
import JobQueue
public import TroL

/// `trol.answer`: image + question -> answer, through TroL, several jobs per engine batch.
public struct AnswerJob: JobKind {
  /// As `trolley enqueue answer` writes it (docs/cli.md); unknown keys such as `metadata` are kept
  /// in the payload for export and ignored here.
  public struct Payload: Decodable, Sendable {
    /// A local path, `file://` or `http(s)://` URL.
    public var image: String
    public var question: String
    /// The manifest's id for this row, if it had one.
    public var id: String?
    /// Most new tokens (default: the worker's `--max-new-tokens`).
    public var maxNewTokens: Int?
    /// Beam search with this many beams instead of greedy.
    public var beams: Int?

    enum CodingKeys: String, CodingKey {
      case image, question, id, beams
      case maxNewTokens = "max_new_tokens"
    }
  }

  public struct Result: Encodable, Sendable {
    public var answer: String
    public var model: String
    public var tokens: Int
    public var finishReason: String
    public var timings: AnswerTimings
    /// The model, weights, generation settings and Trolley build that produced the result.
    public var provenance: ResultProvenance

    enum CodingKeys: String, CodingKey {
      case answer, model, tokens, timings, provenance
      case finishReason = "finish_reason"
    }
  }

  public static let name = "trol.answer"
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
          finishReason: answer.finishReason, timings: answer.timings,
          provenance: settings.batch.provenance(items[k].options))
      }.mapError { $0 }
    }
    return results.map { $0! }
  }
}
