/// `train.merge`: round r's outer step once its K shards succeeded: the mean delta (f64, shard
/// order) through torch-style Nesterov; stores the round's checkpoint.
public enum TrainMerge: JobContract {
  public static let kind = JobKindName.trainMerge
  public struct Payload: Codable, Sendable, Equatable {
    public var settings: TrainingRunSettings
    public var round: Int
    public init(settings: TrainingRunSettings, round: Int) {
      self.settings = settings
      self.round = round
    }
  }
  public struct Result: Codable, Sendable, Equatable {
    public var checkpointSHA256: String
    /// L2 norm of the mean delta (the outer gradient).
    public var deltaNorm: Double
    public var seconds: Double
    public init(checkpointSHA256: String, deltaNorm: Double, seconds: Double) {
      self.checkpointSHA256 = checkpointSHA256
      self.deltaNorm = deltaNorm
      self.seconds = seconds
    }
  }
}
