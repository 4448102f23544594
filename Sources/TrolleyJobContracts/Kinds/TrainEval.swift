/// `train.eval`: scores round r's checkpoint on the run's held-out split after its merge: mean
/// loss per answer token and, over the examples whose answers are short, greedy exact match.
/// Nothing waits for it but the run's completion.
public enum TrainEval: JobContract {
  public static let kind = JobKindName.trainEval
  public struct Payload: Codable, Sendable, Equatable {
    public var settings: TrainingRunSettings
    public var round: Int
    /// What the evaluation needs in memory (the claim skips workers with less); nil: undeclared.
    public var memoryBytes: Int64?
    public init(settings: TrainingRunSettings, round: Int, memoryBytes: Int64? = nil) {
      self.settings = settings
      self.round = round
      self.memoryBytes = memoryBytes
    }
    // `memory_bytes` is the key the queue's claim reads.
    enum CodingKeys: String, CodingKey {
      case settings, round
      case memoryBytes = "memory_bytes"
    }
  }
  public struct Result: Codable, Sendable, Equatable {
    /// Mean cross-entropy over the held-out answers' tokens (as the training loss is computed).
    public var loss: Double
    /// Held-out examples scored for loss.
    public var examples: Int
    /// Examples with a short answer, answered greedily and compared (0: no exact match).
    public var answered: Int
    /// Exact-match accuracy over those `answered` examples (nil when none was short).
    public var exactMatch: Double?
    public var seconds: Double
    public init(loss: Double, examples: Int, answered: Int, exactMatch: Double?, seconds: Double) {
      self.loss = loss
      self.examples = examples
      self.answered = answered
      self.exactMatch = exactMatch
      self.seconds = seconds
    }
  }
}
