import ArgumentParser
import Foundation
import JobQueue
import Training
import TrolleyJobContracts
import TrolleyWorkers

/// `trolley train start`: enqueues a DiLoCo run as R·(K+1) queue jobs.
struct TrainStart: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "start",
    abstract:
      "Start a distributed training run: R rounds of K shards (train.shard) and a merge (train.merge).",
    discussion: """
      Each shard runs H inner AdamW steps of B examples from its round's weights; the merge \
      averages the K deltas and takes an outer Nesterov step (--outer-lr 0.7 --outer-momentum 0.9; \
      1 and 0 is plain averaging). With --eval FILE or --eval-fraction F, a train.eval job per round scores the held-out \
      split (loss, exact match) off the critical path. Workers run them: trolley worker --kinds \
      train.shard,train.merge,train.eval. \
      The final checkpoint is byte-identical for a seed, whichever worker ran what (docs/training-runs.md).

      Example:
        trolley train start --model tiny --data data.json --trainable step1 --rounds 3 --shards 3 \\
          --inner-steps 4 --batch-size 2 --lr 1e-3 --name demo
      """)

  @Option(help: "The model folder, at the same path on every worker.") var model: String
  @Option(help: "A LLaVA JSON file (images relative to its folder), same path on every worker.")
  var data: String
  @Option(
    help:
      "The trainable set: step1 (projector + gate), step2 (step1 + LoRA) or all (every tensor, vision tower included: small models from scratch)."
  ) var trainable: String
  @Option(help: "Rounds R.") var rounds: Int
  @Option(help: "Shards per round K.") var shards: Int
  @Option(help: "Inner steps per shard H.") var innerSteps: Int
  @Option(help: "Examples per inner step B.") var batchSize: Int
  @Option(help: "Inner AdamW peak learning rate (cosine down to --min-lr).") var lr: Double = 1e-4
  @Option(help: "Inner learning rate at the last step.") var minLr: Double = 1e-6
  @Option(help: "Linear warmup of the inner learning rate over the first N of the R·H steps.")
  var warmupSteps: Int = 0
  @Option(help: "Inner AdamW weight decay.") var weightDecay: Double = 0
  @Option(help: "Clip the gradient norm to this (0: no clipping).") var maxGradNorm: Double = 1
  @Option(help: "LoRA rank (step2).") var loraRank: Int = 64
  @Option(help: "LoRA alpha (step2).") var loraAlpha: Double = 64
  @Option(help: "The seed of the data order and LoRA init.") var seed: UInt64 = 0
  @Option(help: "The run's name.") var name: String
  @Option(help: "Outer learning rate η.") var outerLr: Double = 0.7
  @Option(help: "Outer Nesterov momentum μ.") var outerMomentum: Double = 0.9
  @Option(help: "A shared directory for artifacts (default: in PostgreSQL).") var artifacts: String?
  @Option(
    name: .customLong("eval"),
    help:
      "A held-out LLaVA JSON file train.eval scores after each merge (same path on every worker)."
  ) var evalData: String?
  @Option(
    help:
      "Without --eval: hold out this fraction of --data by id hash for train.eval (0: no eval).")
  var evalFraction: Double = 0
  @Option(
    help:
      "Keep only the last N merged rounds' artifacts (exported rounds are always kept; default: all)."
  ) var keepRounds: Int?
  @Flag(
    help:
      "Train without TroL's layer traversal (the ablation); the export records trol_traversal: false."
  ) var noTraversal = false
  @Option(
    help: ArgumentHelp(
      "Which questions of a multi-turn LLaVA entry train: first (the first human/gpt pair) or each.",
      discussion:
        "each: every pair is its own question on the entry's image, packed into one sample that computes the image and the shared prompt once (exactly the loss of one example per pair; a visual question set's questions are independent, so the pairs do not see each other). --batch-size then counts entries."
    )) var turns: String = "first"
  @OptionGroup var options: OperatorOptions

  func validate() throws {
    guard TrainingTurns(rawValue: turns) != nil else {
      throw ValidationError(
        "--turns must be first or each, got '\(turns)'")
    }
    guard rounds >= 1, shards >= 1, innerSteps >= 1, batchSize >= 1 else {
      throw ValidationError("--rounds, --shards, --inner-steps and --batch-size must be at least 1")
    }
    guard TrainableSet(rawValue: trainable) != nil else {
      throw ValidationError(
        "--trainable must be one of \(TrainableSet.spelled), got '\(trainable)'")
    }
    guard warmupSteps >= 0, warmupSteps <= rounds * innerSteps else {
      throw ValidationError("--warmup-steps must be 0...R·H (\(rounds * innerSteps))")
    }
    guard evalFraction >= 0, evalFraction < 1 else {
      throw ValidationError("--eval-fraction must be at least 0 and below 1")
    }
    guard evalData == nil || evalFraction == 0 else {
      throw ValidationError("give --eval FILE or --eval-fraction F, not both")
    }
    if let keepRounds, keepRounds < 1 {
      throw ValidationError("--keep-rounds must be at least 1 (the latest round is always kept)")
    }
    guard name.range(of: "^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$", options: .regularExpression) != nil
    else {
      throw ValidationError("--name: letters, digits, '.', '_' and '-', at most 100")
    }
  }

  func run() async throws {
    func absolute(_ path: String) -> String {
      URL(fileURLWithPath: path).standardizedFileURL.path
    }
    let settings = TrainingRunSettings(
      run: name, model: absolute(model), data: absolute(data), trainable: trainable,
      rounds: rounds, shards: shards, innerSteps: innerSteps, batchSize: batchSize, lr: lr,
      minLR: minLr, weightDecay: weightDecay, maxGradNorm: maxGradNorm, loraRank: loraRank,
      loraAlpha: loraAlpha, seed: seed, outerLR: outerLr, outerMomentum: outerMomentum,
      artifacts: artifacts.map(absolute), eval: evalData.map(absolute),
      evalFraction: evalFraction > 0 ? evalFraction : nil,
      warmupSteps: warmupSteps > 0 ? warmupSteps : nil, keepRounds: keepRounds,
      traversal: noTraversal ? false : nil, turns: turns == "first" ? nil : turns)
    var examples = try LLaVAData.examples(path: settings.data).filter {
      !LLaVAData.isHeldOut(id: $0.id, fraction: evalFraction)
    }.count
    let heldOut: Int
    if let file = settings.eval {
      heldOut = try LLaVAData.examples(path: file).count
    } else {
      heldOut = try LLaVAData.examples(path: settings.data).count - examples
    }
    if settings.evaluates, heldOut == 0 {
      throw ValidationError(
        "the held-out split is empty: raise --eval-fraction or give --eval FILE")
    }
    if examples == 0 {
      throw ValidationError("no training examples are left in \(data) after the held-out split")
    }
    examples = max(examples, 1)
    let model = try DiLoCoRound.model(settings)
    let base = try DiLoCoRound.baseCheckpoint(settings, model: model)
    let memory = try ShardMemory.estimate(settings, model: model)
    let runs = TrainingRuns(store: try options.context().store())
    let batch = try await runs.start(settings, base: base, memory: memory)
    let seen = rounds * shards * innerSteps * batchSize
    let jobs = rounds * (shards + (settings.evaluates ? 2 : 1))
    let epochs = Double(seen) / Double(max(examples, 1))
    if options.json {
      print(
        "{\"run\":\"\(name)\",\"batch\":\(batch),\"jobs\":\(jobs),\"examples\":\(examples),\"held_out\":\(heldOut),\"shard_memory_bytes\":\(memory),\"epochs\":\(epochs)}"
      )
    } else {
      print(
        "run \(name): batch \(batch), \(jobs) jobs; R·K·H·B = \(seen) examples seen of \(examples) (\(String(format: "%.2f", epochs)) epochs)"
          + (settings.evaluates ? "; \(heldOut) held out for train.eval" : "")
          + "; a shard needs about \(memory >> 20) MiB (workers with less leave it)"
      )
    }
  }
}
