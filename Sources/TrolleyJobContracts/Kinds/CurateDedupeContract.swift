/// `curate.dedupe`: exact groups by sha256 and near groups within `distance` bits of `hash`.
/// `trolley dataset dedupe` plans one chain of these per run, after the dataset's unfinished
/// ingest jobs: `reset` (1) → `exact` (4, by the first hex digit of sha256) → `pairs` (k × 4,
/// one per band and quarter of its values) → `groups` (1). Without `step` one job does it all.
public enum CurateDedupeContract: JobContract {
  public static let kind = JobKindName.curateDedupe
  public struct Payload: Codable, Sendable, Hashable {
    public var datasetID: Int64
    /// ahash, phash, dhash or whash.
    public var hash: String
    /// Largest Hamming distance of a near pair, 0...31.
    public var distance: Int
    /// reset, exact, pairs or groups; nil: every step in one job.
    public var step: String?
    /// exact: the quarter of sha256 values (by first hex digit) 0...3; pairs: the quarter of the
    /// band's values 0...3.
    public var part: Int?
    /// pairs: the band, 0...distance.
    public var band: Int?

    public init(
      datasetID: Int64, hash: String, distance: Int, step: String? = nil, part: Int? = nil,
      band: Int? = nil
    ) {
      self.datasetID = datasetID
      self.hash = hash
      self.distance = distance
      self.step = step
      self.part = part
      self.band = band
    }

    enum CodingKeys: String, CodingKey {
      case datasetID = "dataset_id"
      case hash, distance, step, part, band
    }
  }
  public struct Result: Codable, Sendable, Hashable {
    /// Items that became exact duplicates.
    public var exact: Int
    /// Band rows written (k per kept item, over all pairs jobs).
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
