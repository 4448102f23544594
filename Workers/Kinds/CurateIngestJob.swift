import Curation
public import Datasets
import Foundation
import TroL
import TrolleyBasics
public import TrolleyJobContracts

/// What the curate.* kinds share: the dataset store and the worker's image fetch policy.
public struct CurationJobSettings: Sendable {
  public let store: DatasetStore
  public let fetcher: ImageFetcher

  public init(store: DatasetStore, fetcher: ImageFetcher) {
    self.store = store
    self.fetcher = fetcher
  }
}

/// `curate.ingest`: reads each pending item of one id range, checks that it decodes, records
/// size, format, sha256 and the four perceptual hashes, and applies the dataset's filters.
/// Items that cannot be read or decoded become `bad` with the reason; a source that failed for a
/// retryable network reason fails the job instead, so the queue retries it. Only pending rows are
/// written, so a retried or duplicated job changes nothing already recorded.
public struct CurateIngestJob: ContractJobKind {
  public typealias Contract = CurateIngestContract
  public let settings: CurationJobSettings

  public init(settings: CurationJobSettings) {
    self.settings = settings
  }

  public func run(_ payload: Contract.Payload, context: JobContext) async throws -> Contract.Result
  {
    guard payload.firstID <= payload.lastID else {
      throw JobFailure(.invalidPayload, "curate.ingest: first_id must not exceed last_id")
    }
    let store = settings.store
    let dataset: DatasetRecord
    do {
      dataset = try await store.datasetGet(id: payload.datasetID)
    } catch let error as DatasetError {
      throw JobFailure(.permanent, error.message)
    }
    let pending = try await store.itemsPending(
      datasetID: payload.datasetID, firstID: payload.firstID, lastID: payload.lastID)
    let decoder = ImageDecoder(
      limits: ImageDecoder.Limits(maxBytes: max(dataset.filters.maxBytes, 64 << 20)))
    var outcomes: [IngestOutcome] = []
    outcomes.reserveCapacity(pending.count)
    var counts = (ok: 0, bad: 0, filtered: 0)
    for (index, item) in pending.enumerated() {
      try context.checkStop()
      let bytes: [UInt8]
      do {
        bytes = try await settings.fetcher.fetch(item.source)
      } catch let error as ImageFetchError {
        if error.isRetryable { throw JobFailure(.transient, "\(item.source): \(error.message)") }
        outcomes.append(
          IngestOutcome(id: item.id, status: "bad", reason: error.message, fingerprint: nil))
        counts.bad += 1
        continue
      }
      do {
        let fingerprint = try ImageFingerprint(data: bytes, decoder: decoder)
        let failed = dataset.filters.reasons(
          width: fingerprint.width, height: fingerprint.height, format: fingerprint.format,
          bytes: fingerprint.bytes)
        if failed.isEmpty {
          counts.ok += 1
          outcomes.append(
            IngestOutcome(id: item.id, status: "ok", reason: nil, fingerprint: fingerprint))
        } else {
          counts.filtered += 1
          outcomes.append(
            IngestOutcome(
              id: item.id, status: "filtered", reason: failed.joined(separator: ","),
              fingerprint: fingerprint))
        }
      } catch let error as TroLError {
        counts.bad += 1
        outcomes.append(
          IngestOutcome(id: item.id, status: "bad", reason: error.message, fingerprint: nil))
      }
      context.reportProgress(Double(index + 1) / Double(max(pending.count, 1)))
    }
    let recorded = try await store.itemsRecord(datasetID: payload.datasetID, outcomes: outcomes)
    return Contract.Result(
      items: pending.count, ok: counts.ok, bad: counts.bad, filtered: counts.filtered,
      recorded: recorded)
  }
}
