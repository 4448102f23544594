public import Postgres

/// How far a dataset has come: items by status and reason, its jobs by stage and state.
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
  public var items: Int
  public var byStatus: [StatusCount]
  public var stages: [StageCount]

  enum CodingKeys: String, CodingKey {
    case items
    case byStatus = "by_status"
    case stages
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
    return DatasetProgress(
      items: statuses.reduce(0) { $0 + $1.count }, byStatus: statuses, stages: stages)
  }

  public func progress(datasetID: Int64) async throws -> DatasetProgress {
    try await withConnection { try self.progress(datasetID: datasetID, on: $0) }
  }
}
