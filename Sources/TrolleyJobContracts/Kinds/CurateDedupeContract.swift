/// `curate.dedupe`: exact groups by sha256 and near groups within `distance` bits of `hash`
/// (`trolley dataset dedupe` plans it after the dataset's unfinished ingest jobs).
public enum CurateDedupeContract: JobContract {
  public static let kind = JobKindName.curateDedupe
  public struct Payload: Codable, Sendable, Hashable {
    public var datasetID: Int64
    /// ahash, phash, dhash or whash.
    public var hash: String
    /// Largest Hamming distance of a near pair, 0...31.
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
  public struct Result: Codable, Sendable, Hashable {
    /// Items that became exact duplicates.
    public var exact: Int
    /// Band rows written (k per kept item).
    public var bands: Int
    /// Verified near pairs.
    public var edges: Int
    /// Near groups.
    public var groups: Int
    /// Items that became near duplicates.
    public var near: Int

    public init(exact: Int, bands: Int, edges: Int, groups: Int, near: Int) {
      self.exact = exact
      self.bands = bands
      self.edges = edges
      self.groups = groups
      self.near = near
    }
  }
}
