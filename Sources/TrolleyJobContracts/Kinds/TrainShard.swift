/// `train.shard`: shard s of round r: H inner AdamW steps from the round's weights on its slice of
/// the data; stores the delta θ_r − θ_local and its AdamW state as artifacts.
public enum TrainShard: JobContract {
  public static let kind = JobKindName.trainShard
  public struct Payload: Codable, Sendable, Equatable {
    public var settings: TrainingRunSettings
    public var round: Int
    public var shard: Int
    /// What the shard needs in memory (the claim skips workers with less); nil: undeclared.
    public var memoryBytes: Int64?
    public init(settings: TrainingRunSettings, round: Int, shard: Int, memoryBytes: Int64? = nil) {
      self.settings = settings
      self.round = round
      self.shard = shard
      self.memoryBytes = memoryBytes
    }
    // `memory_bytes` is the key the queue's claim reads.
    enum CodingKeys: String, CodingKey {
      case settings, round, shard
      case memoryBytes = "memory_bytes"
    }
  }
  public struct Result: Codable, Sendable, Equatable {
    /// Mean training loss over the shard's H steps, and each step's.
    public var loss: Double
    public var losses: [Double]
    public var deltaSHA256: String
    /// The H inner steps (and the delta), without loading.
    public var computeSeconds: Double
    /// Artifacts fetched and stored.
    public var transferSeconds: Double
    /// Model, trainer and resume state set up (and the data read, the first time in a process).
    public var loadSeconds: Double?
    public init(
      loss: Double, losses: [Double], deltaSHA256: String, computeSeconds: Double,
      transferSeconds: Double, loadSeconds: Double? = nil
    ) {
      self.loadSeconds = loadSeconds
      self.loss = loss
      self.losses = losses
      self.deltaSHA256 = deltaSHA256
      self.computeSeconds = computeSeconds
      self.transferSeconds = transferSeconds
    }
  }
}
