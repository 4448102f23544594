import Curation
import Datasets
import Foundation
import TrolleyBasics
public import TrolleyJobContracts

/// `curate.shard`: writes one WebDataset tar shard of a dataset's kept items (and, for the last
/// shard, the export's `sizes.json`) through `DatasetShardWriter`. Sources are read under the
/// worker's fetch policy, like curate.ingest. The tar is written under `.partial` and renamed, so
/// a killed worker leaves no half shard, and the retry writes the same bytes.
public struct CurateShardJob: ContractJobKind {
  public typealias Contract = CurateShardContract
  public let settings: CurationJobSettings

  public init(settings: CurationJobSettings) {
    self.settings = settings
  }

  public func run(_ payload: Contract.Payload, context: JobContext) async throws -> Contract.Result
  {
    guard payload.shard >= 0, payload.shard < payload.shards, payload.firstID <= payload.lastID,
      payload.out.hasPrefix("/"), !payload.prefix.contains("/")
    else {
      throw JobFailure(
        .invalidPayload,
        "curate.shard: needs 0 <= shard < shards, first_id <= last_id, an absolute out folder "
          + "and a prefix without '/'")
    }
    let fetcher = settings.fetcher
    let writer = DatasetShardWriter(store: settings.store) { source in
      do {
        return try await fetcher.fetch(source)
      } catch let error as ImageFetchError {
        if error.isRetryable { throw JobFailure(.transient, "\(source): \(error.message)") }
        throw JobFailure(.permanent, "\(source): \(error.message)")
      }
    }
    do {
      return try await writer.write(payload, checkStop: { try context.checkStop() })
    } catch let error as DatasetError {
      throw JobFailure(.permanent, "curate.shard: \(error.message)")
    } catch let error as TarWriter.Failure {
      throw JobFailure(.transient, "curate.shard: \(error.message)")
    }
  }
}
