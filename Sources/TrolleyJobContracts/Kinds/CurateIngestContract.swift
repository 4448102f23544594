/// `curate.ingest`: reads, decodes, hashes and filters the pending items with ids in
/// `first_id...last_id` of one dataset (`trolley dataset ingest` plans one per chunk).
public enum CurateIngestContract: JobContract {
  public static let kind = JobKindName.curateIngest
  public struct Payload: Codable, Sendable, Hashable {
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
  public struct Result: Codable, Sendable, Hashable {
    /// Items still pending when the job started.
    public var items: Int
    public var ok: Int
    public var bad: Int
    public var filtered: Int
    /// Rows written (a concurrent attempt may have recorded some first).
    public var recorded: Int

    public init(items: Int, ok: Int, bad: Int, filtered: Int, recorded: Int) {
      self.items = items
      self.ok = ok
      self.bad = bad
      self.filtered = filtered
      self.recorded = recorded
    }
  }
}
