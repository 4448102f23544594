/// `train.shard`: shard s of round r: H inner AdamW steps from the round's weights on its slice of
/// the data; stores the delta θ_r − θ_local and its AdamW state as artifacts.
public enum TrainShard: JobContract {
  public static let kind = JobKindName.trainShard
  public struct Payload: Codable, Sendable, Equatable {
    public var settings: TrainingRunSettings
    public var round: Int
    public var shard: Int
    public init(settings: TrainingRunSettings, round: Int, shard: Int) {
      self.settings = settings
      self.round = round
      self.shard = shard
    }
  }
  public struct Result: Codable, Sendable, Equatable {
    /// Mean training loss over the shard's H steps, and each step's.
    public var loss: Double
    public var losses: [Double]
    public var deltaSHA256: String
    public var computeSeconds: Double
    public var transferSeconds: Double
    public init(
      loss: Double, losses: [Double], deltaSHA256: String, computeSeconds: Double,
      transferSeconds: Double
    ) {
      self.loss = loss
      self.losses = losses
      self.deltaSHA256 = deltaSHA256
      self.computeSeconds = computeSeconds
      self.transferSeconds = transferSeconds
    }
  }
}
