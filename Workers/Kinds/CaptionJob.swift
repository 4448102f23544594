import Datasets
import Foundation
import JobQueue
public import TroL
public import TrolleyJobContracts

/// `trol.caption`: image -> caption, with the payload's prompt or the worker's default one.
public struct CaptionJob: EngineJobKind {
  /// As `trolley enqueue caption` writes it (the shared contract, docs/cli.md).
  public typealias Payload = TrolCaption.Payload
  public typealias Result = TrolCaption.Result

  public static let name = TrolCaption.name
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
      let prompt = payload.prompt?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
      let options = try settings.options(maxNewTokens: payload.maxNewTokens, beams: nil)
      return EngineBatch.Item(
        image: payload.image, question: prompt.isEmpty ? settings.captionPrompt : prompt,
        options: options, cancellation: context.engineCancellation(),
        progress: context.engineProgress(maxNewTokens: options.maxNewTokens))
    } result: { answer, item in
      Result(
        caption: answer.answer, prompt: item.question, model: settings.batch.modelName,
        tokens: answer.tokenIDs.count, finishReason: answer.finishReason,
        timings: answer.timings.resultJSON,
        provenance: settings.batch.provenance(item.options).resultJSON)
    }
    return await settings.writeBack(outcomes, batch, item: \.datasetItem) { store, id, _, result in
      try await store.captionWrite(itemID: id, caption: result.caption, prompt: result.prompt)
    }
  }
}
