public import Datasets
import Foundation
import JobQueue
public import TroL
public import TrolleyJobContracts

/// `trol.caption`: image -> caption, with the payload's prompt or the worker's default one.
public typealias CaptionJob = EngineJob<CaptionTask>

/// What `trol.caption` adds to the engine path: the payload's prompt, or the worker's default
/// one when it is absent or blank; the caption and its prompt stored on the dataset item.
public enum CaptionTask: EngineTask {
  /// As `trolley enqueue caption` writes it (the shared contract, docs/cli.md).
  public typealias Contract = TrolCaption

  public static func item(
    _ payload: TrolCaption.Payload, context: JobContext, settings: EngineJobSettings
  ) throws -> EngineBatch.Item {
    let prompt = payload.prompt?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
    return try EngineBatch.Item(
      image: payload.image, question: prompt.isEmpty ? settings.captionPrompt : prompt,
      maxNewTokens: payload.maxNewTokens, beams: nil, context: context, settings: settings)
  }

  public static func result(
    _ answer: AnswerResult, item: EngineBatch.Item, settings: EngineJobSettings
  ) -> TrolCaption.Result {
    TrolCaption.Result(
      caption: answer.answer, prompt: item.request.question, model: settings.batch.modelName,
      tokens: answer.tokenIDs.count, finishReason: answer.finishReason,
      timings: answer.timings.resultJSON,
      provenance: settings.batch.provenance(item.request.options))
  }

  public static func write(
    _ result: TrolCaption.Result, payload: TrolCaption.Payload, item id: Int64,
    to store: DatasetStore
  ) async throws {
    try await store.captionWrite(itemID: id, caption: result.caption, prompt: result.prompt)
  }
}

extension TrolCaption.Payload: EnginePayload {}
