public import Datasets
public import JobQueue
public import TroL
public import TrolleyJobContracts

/// A payload the TroL engine answers: an image, and the dataset item that receives the result
/// (absent for jobs that are not part of a dataset).
public protocol EnginePayload: Sendable {
  var image: String { get }
  var datasetItem: Int64? { get }
}

/// What one engine-answered kind adds to the path they share (`EngineJob`): its contract, the
/// engine request a payload becomes, the result an answer becomes, and how a dataset item's
/// result is recorded.
public protocol EngineTask: Sendable where Contract.Payload: EnginePayload {
  associatedtype Contract: JobContract

  /// The engine request for one job, or the job's failure (a bad payload is that job's problem,
  /// not the batch's).
  static func item(
    _ payload: Contract.Payload, context: JobContext, settings: EngineJobSettings
  ) throws -> EngineBatch.Item

  /// The job's result for the engine's answer to `item`.
  static func result(
    _ answer: AnswerResult, item: EngineBatch.Item, settings: EngineJobSettings
  ) -> Contract.Result

  /// Records `result` on dataset item `id` (the payload's `datasetItem`).
  static func write(
    _ result: Contract.Result, payload: Contract.Payload, item id: Int64, to store: DatasetStore
  ) async throws
}

/// A kind the TroL engine answers (`AnswerJob`, `CaptionJob`), up to `settings.batchSize` jobs
/// per engine batch.
public struct EngineJob<Task: EngineTask>: JobKind {
  public typealias Payload = Task.Contract.Payload
  public typealias Result = Task.Contract.Result

  public static var name: String { Task.Contract.name }
  public let settings: EngineJobSettings

  public init(settings: EngineJobSettings) {
    self.settings = settings
  }

  public var maxBatchSize: Int { settings.batchSize }

  /// Jobs on one image go into one engine batch, which encodes the image and computes its
  /// prefix once.
  public func groupKey(_ payload: Payload) -> String? { payload.image }

  /// One job is a batch of one.
  public func run(_ payload: Payload, context: JobContext) async throws -> Result {
    try await run(batch: [(payload, context)])[0].get()
  }

  public func run(batch: [(payload: Payload, context: JobContext)]) async -> [Swift.Result<
    Result, any Error
  >] {
    let outcomes = await settings.runBatch(batch) { payload, context in
      try Task.item(payload, context: context, settings: settings)
    } result: { answer, item in
      Task.result(answer, item: item, settings: settings)
    }
    return await settings.writeBack(outcomes, batch, item: \.datasetItem) {
      store, id, payload, result in
      try await Task.write(result, payload: payload, item: id, to: store)
    }
  }
}
