import Curation
public import Datasets
public import TrolleyJobContracts

/// `curate.dedupe`: exact groups by sha256 and near groups within the payload's Hamming distance
/// on its hash, through the dataset's band table; one transaction, so a killed worker leaves the
/// previous verdicts and the retry computes the same groups (see `DatasetDeduper`).
public struct CurateDedupeJob: JobKind {
  public typealias Payload = DedupePayload
  public typealias Result = DatasetDeduper.Summary

  public static let name = CurationKindNames.dedupe
  public let settings: CurationJobSettings

  public init(settings: CurationJobSettings) {
    self.settings = settings
  }

  public func run(_ payload: Payload, context: JobContext) async throws -> Result {
    guard let hash = HashKind(rawValue: payload.hash) else {
      throw JobFailure(
        .invalidPayload,
        "curate.dedupe: hash must be ahash, phash, dhash or whash, got \(payload.hash)")
    }
    guard (0...31).contains(payload.distance) else {
      throw JobFailure(
        .invalidPayload, "curate.dedupe: distance must be 0...31, got \(payload.distance)")
    }
    return try await DatasetDeduper(store: settings.store).run(
      datasetID: payload.datasetID, hash: hash, distance: payload.distance,
      checkStop: { try context.checkStop() })
  }
}
