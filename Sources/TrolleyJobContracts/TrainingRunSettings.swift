/// A distributed training run's settings (training.md, "Rounds as queue jobs"), as
/// `trolley train start` records them and every `train.*` job carries them.
public struct TrainingRunSettings: Codable, Sendable, Equatable {
  /// The run's name; artifacts are named `<run>/r0003/s02/delta`.
  public var run: String
  /// The model folder every worker reads (a shared path).
  public var model: String
  /// A LLaVA JSON file (images relative to its folder, or absolute).
  public var data: String
  /// step1, step2 or all (Training.TrainableSet).
  public var trainable: String
  public var rounds: Int
  public var shards: Int
  public var innerSteps: Int
  public var batchSize: Int
  /// Inner AdamW: cosine from `lr` to `minLR` over step r·H + h of R·H.
  public var lr: Double
  public var minLR: Double
  public var weightDecay: Double
  public var maxGradNorm: Double
  public var loraRank: Int
  public var loraAlpha: Double
  public var seed: UInt64
  /// Outer Nesterov: η and μ (1 and 0: plain averaging).
  public var outerLR: Double
  public var outerMomentum: Double
  /// A shared directory for the artifacts' bytes (nil: PostgreSQL).
  public var artifacts: String?
  /// TroL's traversal: false trains each layer once without the gate (the paper's ablation).
  /// nil (runs recorded before the switch existed) means on.
  public var traversal: Bool?

  /// Whether the run traverses (the default).
  public var traverses: Bool { traversal ?? true }

  public init(
    run: String, model: String, data: String, trainable: String, rounds: Int, shards: Int,
    innerSteps: Int, batchSize: Int, lr: Double, minLR: Double, weightDecay: Double,
    maxGradNorm: Double, loraRank: Int, loraAlpha: Double, seed: UInt64, outerLR: Double,
    outerMomentum: Double, artifacts: String?, traversal: Bool = true
  ) {
    self.traversal = traversal
    self.run = run
    self.model = model
    self.data = data
    self.trainable = trainable
    self.rounds = rounds
    self.shards = shards
    self.innerSteps = innerSteps
    self.batchSize = batchSize
    self.lr = lr
    self.minLR = minLR
    self.weightDecay = weightDecay
    self.maxGradNorm = maxGradNorm
    self.loraRank = loraRank
    self.loraAlpha = loraAlpha
    self.seed = seed
    self.outerLR = outerLR
    self.outerMomentum = outerMomentum
    self.artifacts = artifacts
  }
}

/// Artifact names of a run (training.md, "Artifacts"); rounds are 0-based.
public enum TrainingArtifactName {
  /// θ after round r's merge (what round r+1's shards start from).
  public static func checkpoint(_ run: String, round: Int) -> String {
    "\(run)/\(roundPart(round))/checkpoint"
  }
  /// The outer Nesterov buffer after round r's merge.
  public static func momentum(_ run: String, round: Int) -> String {
    "\(run)/\(roundPart(round))/momentum"
  }
  /// θ_r − θ_local of shard s in round r.
  public static func delta(_ run: String, round: Int, shard: Int) -> String {
    "\(run)/\(roundPart(round))/\(shardPart(shard))/delta"
  }
  /// Shard s's AdamW state at the end of round r (the trainer's checkpoint).
  public static func state(_ run: String, round: Int, shard: Int) -> String {
    "\(run)/\(roundPart(round))/\(shardPart(shard))/state"
  }
  static func roundPart(_ r: Int) -> String { "r" + pad(r, 4) }
  static func shardPart(_ s: Int) -> String { "s" + pad(s, 2) }
  static func pad(_ n: Int, _ width: Int) -> String {
    let text = String(n)
    return String(repeating: "0", count: max(0, width - text.count)) + text
  }
}
