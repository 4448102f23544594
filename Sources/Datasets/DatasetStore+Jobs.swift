public import Postgres
import TrolleyBasics

extension DatasetStore {
  static let jobRecordSQL = """
    INSERT INTO dataset_job (dataset_id, stage, job_id) SELECT $1, $2, unnest($3::bigint[])
    ON CONFLICT DO NOTHING
    """

  static let jobRecordByKeySQL = """
    INSERT INTO dataset_job (dataset_id, stage, job_id)
    SELECT $1, $2, id FROM jobs WHERE unique_key = ANY($3::text[])
    ON CONFLICT DO NOTHING
    """

  // Jobs of a stage not yet finished (deleted jobs count as finished).
  static let jobOpenSQL = """
    SELECT dj.job_id FROM dataset_job dj JOIN jobs j ON j.id = dj.job_id
    WHERE dj.dataset_id = $1 AND dj.stage = $2
      AND j.state NOT IN ('succeeded', 'dead', 'cancelled')
    ORDER BY dj.job_id
    """

  /// Remembers jobs planned for a dataset's stage.
  public func jobsRecord(
    datasetID: Int64, stage: String, jobIDs: [Int64], on connection: PostgresConnection
  ) throws {
    guard !jobIDs.isEmpty else { return }
    try connection.query(Self.jobRecordSQL, [datasetID, stage, jobIDs], name: "datasetJobRecord")
  }

  /// Remembers the jobs with these unique keys (added by a bulk enqueue, or queued before).
  public func jobsRecord(
    datasetID: Int64, stage: String, uniqueKeys: [String], on connection: PostgresConnection
  ) throws {
    guard !uniqueKeys.isEmpty else { return }
    try connection.query(
      Self.jobRecordByKeySQL, [datasetID, stage, uniqueKeys], name: "datasetJobRecordByKey")
  }

  /// The dataset's jobs of one stage that have not finished.
  public func jobsOpen(datasetID: Int64, stage: String, on connection: PostgresConnection) throws
    -> [Int64]
  {
    try connection.query(Self.jobOpenSQL, [datasetID, stage], name: "datasetJobsOpen").map {
      try $0.decode(0, as: Int64.self)
    }
  }

  /// How many of the dataset's jobs in these stages have not finished.
  public func jobsOpenCount(datasetID: Int64, stages: [String]) async throws -> Int {
    try await withConnection { connection in
      try stages.reduce(0) {
        $0 + (try self.jobsOpen(datasetID: datasetID, stage: $1, on: connection)).count
      }
    }
  }

  /// Throws unless the dataset's ingest and dedupe jobs have all finished, so that which items
  /// are kept is settled; `then` says what the operator runs afterwards.
  public func requireSettled(
    _ dataset: DatasetRecord, then: String, on connection: PostgresConnection
  ) throws {
    let open =
      try jobsOpen(datasetID: dataset.id, stage: "ingest", on: connection)
      + jobsOpen(datasetID: dataset.id, stage: "dedupe", on: connection)
    guard open.isEmpty else {
      throw DatasetError(
        .invalidRequest,
        "\(open.count) ingest or dedupe jobs of \(dataset.name) are still open, so which items "
          + "are kept is not settled; let the workers finish them (`trolley dataset show "
          + "\(dataset.name)`), then \(then)")
    }
  }
}
