public import Foundation
import JobQueue
import Postgres
import TrolleyBasics
import TrolleyJobContracts

extension DatasetPlanner {
  /// What `shards` planned.
  public struct ShardPlan: Sendable, Hashable, Codable {
    public var dataset: String
    public var out: String
    public var shards: Int
    public var samples: Int
    public var jobIDs: [Int64]
    /// Open caption and answer jobs the shards wait for.
    public var waitsFor: Int

    enum CodingKeys: String, CodingKey {
      case dataset, out, shards, samples
      case jobIDs = "job_ids"
      case waitsFor = "waits_for"
    }
  }

  /// Fixes the shards' id ranges (`shardSize` kept items each, by id) and enqueues one
  /// curate.shard job per shard, after the dataset's open caption and answer jobs; the last shard
  /// also runs after the others, since it writes `sizes.json` from their stats.
  /// - Parameter out: an absolute folder the workers can write.
  /// - Throws: `DatasetError.invalidRequest` while ingest or dedupe jobs are open, or when no item
  ///   is kept.
  public func shards(dataset name: String, out: String, shardSize: Int) async throws -> ShardPlan {
    guard (1...1_000_000).contains(shardSize) else {
      throw DatasetError(.invalidRequest, "--shard-size must be 1 to 1000000, got \(shardSize)")
    }
    guard out.hasPrefix("/") else {
      throw DatasetError(.invalidRequest, "the shard folder must be an absolute path, got \(out)")
    }
    return try await withDataset(named: name) { dataset, connection in
      try store.requireSettled(dataset, then: "export again", on: connection)
      let ranges = try store.exportRanges(datasetID: dataset.id, size: shardSize, on: connection)
      guard !ranges.isEmpty else {
        throw DatasetError(
          .invalidRequest,
          "\(name) has no kept items to export; see `trolley dataset show \(name)`")
      }
      let captions = try store.jobsOpen(datasetID: dataset.id, stage: "caption", on: connection)
      var ids: [Int64] = []
      for (index, range) in ranges.enumerated() {
        let payload = CurateShardContract.Payload(
          datasetID: dataset.id, shard: index, shards: ranges.count, firstID: range.firstID,
          lastID: range.lastID, out: out, prefix: name)
        let last = index == ranges.count - 1
        let result = try jobs.jobInsert(
          JobInsertParams(
            queue: queue, kind: CurateShardContract.name,
            payload: PostgresJSONB(text: try CurateShardContract.encode(payload)),
            dependsOn: captions + (last ? ids : [])),
          on: connection)
        guard let id = result.id else {
          throw DatasetError(.invalidRequest, "shard \(index) of \(name) was not enqueued")
        }
        ids.append(id)
      }
      try store.jobsRecord(datasetID: dataset.id, stage: "shard", jobIDs: ids, on: connection)
      return ShardPlan(
        dataset: name, out: out, shards: ranges.count,
        samples: ranges.reduce(0) { $0 + $1.count }, jobIDs: ids, waitsFor: captions.count)
    }
  }
}
