public import Postgres

/// How far a dataset has come: items by status and reason, its jobs by stage and state, and per
/// stage (ingest, dedupe, caption, shard) how many of its jobs are done.
public struct DatasetProgress: Sendable, Hashable, Codable {
  public struct StatusCount: Sendable, Hashable, Codable {
    public var status: String
    public var reason: String?
    public var count: Int
  }
  public struct StageCount: Sendable, Hashable, Codable {
    public var stage: String
    public var state: String
    public var count: Int
  }
  /// One stage's jobs: `done` succeeded (or were deleted by retention after finishing),
  /// `failed` are dead or cancelled, `running` hold a lease; the rest (`waiting`) wait.
  public struct StageProgress: Sendable, Hashable, Codable {
    public let stage: String
    public let total: Int
    public let done: Int
    public let running: Int
    public let failed: Int
    public let waiting: Int

    public init(stage: String, total: Int, done: Int, running: Int, failed: Int) {
      self.stage = stage
      self.total = total
      self.done = done
      self.running = running
      self.failed = failed
      self.waiting = total - done - running - failed
    }
  }

  /// The stages, in the order a curation run goes through them.
  public static let stageOrder = ["ingest", "dedupe", "caption", "shard"]

  public var items: Int
  public var byStatus: [StatusCount]
  public var stages: [StageCount]
  /// Every stage of `stageOrder`, with zero jobs when none were planned.
  public var byStage: [StageProgress]

  enum CodingKeys: String, CodingKey {
    case items, stages
    case byStatus = "by_status"
    case byStage = "by_stage"
  }

  public init(byStatus: [StatusCount], stages: [StageCount]) {
    self.items = byStatus.reduce(0) { $0 + $1.count }
    self.byStatus = byStatus
    self.stages = stages
    self.byStage = Self.stageOrder.map { name in
      var count = (total: 0, done: 0, running: 0, failed: 0)
      for row in stages where row.stage == name {
        count.total += row.count
        switch row.state {
        case "succeeded": count.done += row.count
        case "running": count.running += row.count
        case "dead", "cancelled": count.failed += row.count
        default: break
        }
      }
      return StageProgress(
        stage: name, total: count.total, done: count.done, running: count.running,
        failed: count.failed)
    }
  }

  /// Items with `status`, whatever the reason.
  public func count(_ status: String) -> Int {
    byStatus.filter { $0.status == status }.reduce(0) { $0 + $1.count }
  }
}

extension DatasetStore {
  static let progressStatusSQL = """
    SELECT status::text, reason, count(*)::bigint FROM dataset_item WHERE dataset_id = $1
    GROUP BY status, reason ORDER BY status, reason NULLS FIRST
    """

  // Jobs deleted by retention count as finished: their stage is done.
  static let progressStagesSQL = """
    SELECT dj.stage, coalesce(j.state::text, 'succeeded'), count(*)::bigint
    FROM dataset_job dj LEFT JOIN jobs j ON j.id = dj.job_id
    WHERE dj.dataset_id = $1
    GROUP BY 1, 2 ORDER BY 1, 2
    """

  static let progressRecentSQL = """
    SELECT id FROM dataset ORDER BY id DESC LIMIT $1
    """

  /// The dataset's counts.
  public func progress(datasetID: Int64, on connection: PostgresConnection) throws
    -> DatasetProgress
  {
    let statuses = try connection.query(Self.progressStatusSQL, [datasetID]).map {
      let (status, reason, count) = try $0.decode((String, String?, Int64).self)
      return DatasetProgress.StatusCount(status: status, reason: reason, count: Int(count))
    }
    let stages = try connection.query(Self.progressStagesSQL, [datasetID]).map {
      let (stage, state, count) = try $0.decode((String, String, Int64).self)
      return DatasetProgress.StageCount(stage: stage, state: state, count: Int(count))
    }
    return DatasetProgress(byStatus: statuses, stages: stages)
  }

  public func progress(datasetID: Int64) async throws -> DatasetProgress {
    try await withConnection { try self.progress(datasetID: datasetID, on: $0) }
  }

  /// The newest `limit` datasets and their progress (`trolley top`).
  public func progressRecent(limit: Int) async throws -> [(DatasetRecord, DatasetProgress)] {
    try await withConnection { connection in
      let ids = try connection.query(Self.progressRecentSQL, [Int64(limit)]).map {
        try $0.decode(0, as: Int64.self)
      }
      return try ids.map { id in
        (
          try self.datasetGet(id: id, on: connection),
          try self.progress(datasetID: id, on: connection)
        )
      }
    }
  }
}
