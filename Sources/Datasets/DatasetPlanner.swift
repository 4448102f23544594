public import Curation
public import Foundation
public import JobQueue
public import Postgres
import TrolleyBasics
public import TrolleyJobContracts

/// Turns `trolley dataset ingest|dedupe` into rows and jobs, each in one transaction: either the
/// items and all their jobs exist, or nothing does.
public struct DatasetPlanner: Sendable {
  public let store: DatasetStore
  public let jobs: JobStore
  public var queue: String

  public init(store: DatasetStore, jobs: JobStore, queue: String = "default") {
    self.store = store
    self.jobs = jobs
    self.queue = queue
  }

  /// What `ingest` planned.
  public struct IngestPlan: Sendable, Hashable, Codable {
    public var dataset: String
    public var sources: Int
    public var added: Int
    public var jobs: Int
    public var jobIDs: [Int64]

    enum CodingKeys: String, CodingKey {
      case dataset, sources, added, jobs
      case jobIDs = "job_ids"
    }
  }

  /// Adds the sources not yet in the dataset as pending items and enqueues one curate.ingest job
  /// per `chunk` ids. Re-ingesting the same sources adds neither items nor jobs.
  public func ingest(dataset name: String, sources: [String], chunk: Int) async throws
    -> IngestPlan
  {
    try await ingest(dataset: name, sources: sources.map { IngestSource(source: $0) }, chunk: chunk)
  }

  /// `ingest` with each source's manifest metadata, questions and answers, and caption.
  public func ingest(dataset name: String, sources: [IngestSource], chunk: Int) async throws
    -> IngestPlan
  {
    guard chunk >= 1 && chunk <= 1_000_000 else {
      throw DatasetError(.invalidRequest, "--chunk must be 1 to 1000000, got \(chunk)")
    }
    return try await withDataset(named: name) { dataset, connection in
      let added = try store.itemsAdd(datasetID: dataset.id, sources: sources, on: connection)
      var ids: [Int64] = []
      if let first = added.firstID, let last = added.lastID {
        var start = first
        let encoder = JSONEncoder.sorted
        while start <= last {
          let end = min(start + Int64(chunk) - 1, last)
          let payload = IngestPayload(datasetID: dataset.id, firstID: start, lastID: end)
          let json = PostgresJSONB(bytes: Array(try encoder.encode(payload)))
          let result = try jobs.jobInsert(
            JobInsertParams(
              queue: queue, kind: CurationKindNames.ingest, payload: json,
              uniqueKey: "\(CurationKindNames.ingest):\(dataset.id):\(start)-\(end)"),
            on: connection)
          if let id = result.id { ids.append(id) }
          start = end + 1
        }
      }
      try store.jobsRecord(datasetID: dataset.id, stage: "ingest", jobIDs: ids, on: connection)
      return IngestPlan(
        dataset: name, sources: sources.count, added: added.added, jobs: ids.count, jobIDs: ids)
    }
  }

  /// What `dedupe` planned.
  public struct DedupePlan: Sendable, Hashable, Codable {
    public var dataset: String
    public var hash: String
    public var distance: Int
    /// The last job of the chain (groups): the dedupe is done when it succeeds.
    public var jobID: Int64
    /// Jobs in the chain: 1 reset, 4 exact, (distance + 1) × 4 pairs (none when exact only),
    /// 1 groups.
    public var jobs: Int
    /// Unfinished ingest and dedupe jobs the chain waits for.
    public var waitsFor: Int
    /// Exact copies only (no pairs jobs).
    public var exactOnly: Bool

    enum CodingKeys: String, CodingKey {
      case dataset, hash, distance, jobs
      case exactOnly = "exact_only"
      case jobID = "job_id"
      case waitsFor = "waits_for"
    }
  }

  /// Enqueues the dedupe chain of `DatasetDeduper.Step.plan`, each stage depending on every job
  /// of the stage before, the first on the dataset's unfinished ingest and dedupe jobs; several
  /// workers share each stage.
  public func dedupe(
    dataset name: String, hash: HashKind, distance: Int, exactOnly: Bool = false
  ) async throws -> DedupePlan {
    guard (0...31).contains(distance) else {
      throw DatasetError(.invalidRequest, "--distance must be 0 to 31, got \(distance)")
    }
    return try await withDataset(named: name) { dataset, connection in
      try store.datasetSetDedupe(
        id: dataset.id, hash: hash.rawValue, distance: distance, exactOnly: exactOnly,
        on: connection)
      let open =
        try store.jobsOpen(datasetID: dataset.id, stage: "ingest", on: connection)
        + store.jobsOpen(datasetID: dataset.id, stage: "dedupe", on: connection)
      var previous = open
      var all: [Int64] = []
      for stage in DatasetDeduper.Step.plan(distance: distance, exactOnly: exactOnly) {
        var ids: [Int64] = []
        for step in stage {
          let payload = step.payload(datasetID: dataset.id, hash: hash, distance: distance)
          let json = PostgresJSONB(bytes: Array(try JSONEncoder.sorted.encode(payload)))
          let result = try jobs.jobInsert(
            JobInsertParams(
              queue: queue, kind: CurationKindNames.dedupe, payload: json, dependsOn: previous),
            on: connection)
          guard let id = result.id else {
            throw DatasetError(.invalidRequest, "a dedupe job was not added")
          }
          ids.append(id)
        }
        all += ids
        previous = ids
      }
      try store.jobsRecord(datasetID: dataset.id, stage: "dedupe", jobIDs: all, on: connection)
      return DedupePlan(
        dataset: name, hash: hash.rawValue, distance: distance, jobID: all.last ?? 0,
        jobs: all.count, waitsFor: open.count, exactOnly: exactOnly)
    }
  }

  /// Runs `plan` in one transaction with the dataset named `name`: each plan adds its rows and
  /// jobs there, so either all of them exist or none does.
  /// - Throws: `DatasetError.notFound` for an unknown dataset, and what `plan` throws.
  func withDataset<T: Sendable>(
    named name: String, _ plan: @escaping @Sendable (DatasetRecord, PostgresConnection) throws -> T
  ) async throws -> T {
    let store = self.store
    return try await store.client.withTransaction { connection in
      try plan(try store.datasetGet(name: name, on: connection), connection)
    }
  }
}
