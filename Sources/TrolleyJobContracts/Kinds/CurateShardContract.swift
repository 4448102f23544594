/// `curate.shard`: writes shard `shard` of `shards` of one dataset's WebDataset export: the kept
/// items with ids in `first_id...last_id` (fixed when `trolley dataset export` planned the
/// shards), into `<out>/<prefix>-<shard, 6 digits>.tar` and its `_stats.json`. The last shard
/// runs after the others and also writes the export's `sizes.json`.
public enum CurateShardContract: JobContract {
  public static let kind = JobKindName.curateShard
  public struct Payload: Codable, Sendable, Hashable {
    public var datasetID: Int64
    /// The shard's number, 0-based.
    public var shard: Int
    /// How many shards the export has.
    public var shards: Int
    public var firstID: Int64
    public var lastID: Int64
    /// The folder the shards go to; it must be reachable by the workers.
    public var out: String
    /// The shard files' name before `-000000.tar` (the dataset's name).
    public var prefix: String

    public init(
      datasetID: Int64, shard: Int, shards: Int, firstID: Int64, lastID: Int64, out: String,
      prefix: String
    ) {
      self.datasetID = datasetID
      self.shard = shard
      self.shards = shards
      self.firstID = firstID
      self.lastID = lastID
      self.out = out
      self.prefix = prefix
    }

    enum CodingKeys: String, CodingKey {
      case datasetID = "dataset_id"
      case shard, shards
      case firstID = "first_id"
      case lastID = "last_id"
      case out, prefix
    }
  }
  public struct Result: Codable, Sendable, Hashable {
    /// The tar's path.
    public var path: String
    /// Samples written.
    public var count: Int
    /// The tar's size in bytes.
    public var bytes: Int
    /// The tar's SHA-256 (hex).
    public var sha256: String

    public init(path: String, count: Int, bytes: Int, sha256: String) {
      self.path = path
      self.count = count
      self.bytes = bytes
      self.sha256 = sha256
    }
  }
}
