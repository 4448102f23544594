/// A distributed training run's settings (training.md, "Rounds as queue jobs"), as
/// `trolley train start` records them and every `train.*` job carries them.
public struct TrainingRunSettings: Codable, Sendable, Equatable {
  /// The run's name; artifacts are named `<run>/r0003/s02/delta`.
  public var run: String
  /// The model folder every worker reads (a shared path).
  public var model: String
  /// A LLaVA JSON file (images relative to its folder, or absolute).
  public var data: String
  /// step1, step2 or all.
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
  /// Held-out LLaVA JSON file `train.eval` scores after each merge (nil: see `evalFraction`).
  public var eval: String?
  /// Without `eval`: the fraction of `data` held out by id hash for `train.eval` (and kept out of
  /// training). Nil or 0 with no `eval`: no eval jobs. Optional fields: runs recorded before they
  /// existed still decode.
  public var evalFraction: Double?
  /// Linear warmup of the inner learning rate over the first steps of r·H + h (nil: 0).
  public var warmupSteps: Int?
  /// Keep the artifacts of the last N merged rounds only (nil: keep every round).
  public var keepRounds: Int?
  /// False: train (and evaluate) without TroL's layer traversal, the ablation (nil: traversal on).
  public var traversal: Bool?
  /// Which questions of a multi-turn LLaVA entry train: "first" (nil) or "each" (every
  /// question, each on its own, packed into one sample per entry).
  public var turns: String?

  /// Whether the run has `train.eval` jobs.
  public var evaluates: Bool { eval != nil || (evalFraction ?? 0) > 0 }

  public init(
    run: String, model: String, data: String, trainable: String, rounds: Int, shards: Int,
    innerSteps: Int, batchSize: Int, lr: Double, minLR: Double, weightDecay: Double,
    maxGradNorm: Double, loraRank: Int, loraAlpha: Double, seed: UInt64, outerLR: Double,
    outerMomentum: Double, artifacts: String?, eval: String? = nil, evalFraction: Double? = nil,
    warmupSteps: Int? = nil, keepRounds: Int? = nil, traversal: Bool? = nil, turns: String? = nil
  ) {
    self.traversal = traversal
    self.turns = turns
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
    self.eval = eval
    self.evalFraction = evalFraction
    self.warmupSteps = warmupSteps
    self.keepRounds = keepRounds
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
