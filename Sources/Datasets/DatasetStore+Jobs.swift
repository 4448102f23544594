public import Postgres

extension DatasetStore {
  static let jobRecordSQL = """
    INSERT INTO dataset_job (dataset_id, stage, job_id) SELECT $1, $2, unnest($3::bigint[])
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

  /// The dataset's jobs of one stage that have not finished.
  public func jobsOpen(datasetID: Int64, stage: String, on connection: PostgresConnection) throws
    -> [Int64]
  {
    try connection.query(Self.jobOpenSQL, [datasetID, stage], name: "datasetJobsOpen").map {
      try $0.decode(0, as: Int64.self)
    }
  }
}
