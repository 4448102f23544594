public import Datasets
import Foundation
import JobQueue
public import TroL
import TrolleyBasics
public import TrolleyJobContracts

/// `trol.answer`: image + question -> answer, through TroL, several jobs per engine batch.
public typealias AnswerJob = EngineJob<AnswerTask>

/// What `trol.answer` adds to the engine path: the payload's question (and beams) as asked, the
/// answer stored on the dataset item under its question.
public enum AnswerTask: EngineTask {
  /// As `trolley enqueue answer` writes it (the shared contract, docs/cli.md).
  public typealias Contract = TrolAnswer

  public static func item(
    _ payload: TrolAnswer.Payload, context: JobContext, settings: EngineJobSettings
  ) throws -> EngineBatch.Item {
    if payload.question.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
      throw JobFailure(.invalidPayload, "trol.answer: the question is empty")
    }
    return try EngineBatch.Item(
      image: payload.image, question: payload.question, maxNewTokens: payload.maxNewTokens,
      beams: payload.beams, context: context, settings: settings)
  }

  public static func result(
    _ answer: AnswerResult, item: EngineBatch.Item, settings: EngineJobSettings
  ) -> TrolAnswer.Result {
    TrolAnswer.Result(
      answer: answer.answer, model: settings.batch.modelName, tokens: answer.tokenIDs.count,
      finishReason: answer.finishReason, timings: answer.timings.resultJSON,
      provenance: settings.batch.provenance(item.request.options))
  }

  public static func write(
    _ result: TrolAnswer.Result, payload: TrolAnswer.Payload, item id: Int64,
    to store: DatasetStore
  ) async throws {
    try await store.answerWrite(itemID: id, question: payload.question, answer: result.answer)
  }
}

extension TrolAnswer.Payload: EnginePayload {}
