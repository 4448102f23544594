/// The payloads of the curate.* job kinds, shared by the planner that enqueues them and the
/// kinds that run them (until the shared job-contracts target exists, they live here).
public enum CurationKindNames {
  public static let ingest = "curate.ingest"
  public static let dedupe = "curate.dedupe"
}

/// `curate.ingest`: read, decode, hash and filter the pending items with ids in
/// `first_id...last_id` of one dataset.
public struct IngestPayload: Codable, Sendable, Hashable {
  public var datasetID: Int64
  public var firstID: Int64
  public var lastID: Int64

  public init(datasetID: Int64, firstID: Int64, lastID: Int64) {
    self.datasetID = datasetID
    self.firstID = firstID
    self.lastID = lastID
  }

  enum CodingKeys: String, CodingKey {
    case datasetID = "dataset_id"
    case firstID = "first_id"
    case lastID = "last_id"
  }
}

/// `curate.dedupe`: exact and near duplicate groups of one dataset.
public struct DedupePayload: Codable, Sendable, Hashable {
  public var datasetID: Int64
  public var hash: String
  public var distance: Int

  public init(datasetID: Int64, hash: String, distance: Int) {
    self.datasetID = datasetID
    self.hash = hash
    self.distance = distance
  }

  enum CodingKeys: String, CodingKey {
    case datasetID = "dataset_id"
    case hash, distance
  }
}
