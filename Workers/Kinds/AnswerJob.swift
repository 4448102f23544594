import Datasets
import Foundation
import JobQueue
public import TroL
import TrolleyBasics
public import TrolleyJobContracts

/// `trol.answer`: image + question -> answer, through TroL, several jobs per engine batch.
public struct AnswerJob: EngineJobKind {
  /// As `trolley enqueue answer` writes it (the shared contract, docs/cli.md).
  public typealias Payload = TrolAnswer.Payload
  public typealias Result = TrolAnswer.Result

  public static let name = TrolAnswer.name
  public let settings: EngineJobSettings

  public init(settings: EngineJobSettings) {
    self.settings = settings
  }

  /// Questions on one image go into one engine batch, which encodes the image and computes its
  /// prefix once.
  public func groupKey(_ payload: Payload) -> String? { payload.image }

  public func run(batch: [(payload: Payload, context: JobContext)]) async -> [Swift.Result<
    Result, any Error
  >] {
    let outcomes = await settings.runBatch(batch) { payload, context in
      if payload.question.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
        throw JobFailure(.invalidPayload, "trol.answer: the question is empty")
      }
      let options = try settings.options(maxNewTokens: payload.maxNewTokens, beams: payload.beams)
      return EngineBatch.Item(
        image: payload.image, question: payload.question, options: options,
        cancellation: context.engineCancellation(),
        progress: context.engineProgress(maxNewTokens: options.maxNewTokens))
    } result: { answer, item in
      Result(
        answer: answer.answer, model: settings.batch.modelName, tokens: answer.tokenIDs.count,
        finishReason: answer.finishReason, timings: answer.timings.resultJSON,
        provenance: settings.batch.provenance(item.options).resultJSON)
    }
    return await settings.writeBack(outcomes, batch, item: \.datasetItem) {
      store, id, payload, result in
      try await store.answerWrite(itemID: id, question: payload.question, answer: result.answer)
    }
  }
}
