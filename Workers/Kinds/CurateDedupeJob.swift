import Curation
import Datasets
import TrolleyBasics
public import TrolleyJobContracts

/// `curate.dedupe`: one step of a dataset's batch dedupe (reset, one exact part, one band range's
/// pairs, or the groups), or every step when the payload names none. Each step is one
/// transaction, so a killed worker leaves nothing half-written and the retry computes the same
/// rows (see `DatasetDeduper`).
public struct CurateDedupeJob: ContractJobKind {
  public typealias Contract = CurateDedupeContract
  public let settings: CurationJobSettings

  public init(settings: CurationJobSettings) {
    self.settings = settings
  }

  public func run(_ payload: Contract.Payload, context: JobContext) async throws -> Contract.Result
  {
    guard let hash = HashKind(rawValue: payload.hash) else {
      throw JobFailure(
        .invalidPayload,
        "curate.dedupe: hash must be ahash, phash, dhash or whash, got \(payload.hash)")
    }
    guard (0...31).contains(payload.distance) else {
      throw JobFailure(
        .invalidPayload, "curate.dedupe: distance must be 0...31, got \(payload.distance)")
    }
    let step: DatasetDeduper.Step?
    do {
      step = try DatasetDeduper.Step(payload: payload)
    } catch let error as DatasetError {
      throw JobFailure(.invalidPayload, error.message)
    }
    let deduper = DatasetDeduper(store: settings.store)
    guard let step else {
      return try await deduper.run(
        datasetID: payload.datasetID, hash: hash, distance: payload.distance,
        checkStop: { try context.checkStop() })
    }
    return try await deduper.run(
      step, datasetID: payload.datasetID, hash: hash, distance: payload.distance,
      checkStop: { try context.checkStop() })
  }
}
