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
      1 and 0 is plain averaging). Workers run them: trolley worker --kinds train.shard,train.merge. \
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
      "step1 (projector + gate), step2 (step1 + LoRA) or all (every tensor, vision tower included: small models from scratch)."
  ) var trainable: String
  @Option(help: "Rounds R.") var rounds: Int
  @Option(help: "Shards per round K.") var shards: Int
  @Option(help: "Inner steps per shard H.") var innerSteps: Int
  @Option(help: "Examples per inner step B.") var batchSize: Int
  @Option(help: "Inner AdamW peak learning rate (cosine down to --min-lr).") var lr: Double = 1e-4
  @Option(help: "Inner learning rate at the last step.") var minLr: Double = 1e-6
  @Option(help: "Inner AdamW weight decay.") var weightDecay: Double = 0
  @Option(help: "Clip the gradient norm to this (0: no clipping).") var maxGradNorm: Double = 1
  @Option(help: "LoRA rank (step2).") var loraRank: Int = 64
  @Option(help: "LoRA alpha (step2).") var loraAlpha: Double = 64
  @Option(help: "The seed of the data order and LoRA init.") var seed: UInt64 = 0
  @Option(help: "The run's name.") var name: String
  @Option(help: "Outer learning rate η.") var outerLr: Double = 0.7
  @Option(help: "Outer Nesterov momentum μ.") var outerMomentum: Double = 0.9
  @Option(help: "A shared directory for artifacts (default: in PostgreSQL).") var artifacts: String?
  @Flag(
    help:
      "Train without TroL's traversal (each layer once, no gate): the paper's ablation. The export records trol_traversal: false."
  ) var noTraversal = false
  @OptionGroup var options: OperatorOptions

  func validate() throws {
    guard rounds >= 1, shards >= 1, innerSteps >= 1, batchSize >= 1 else {
      throw ValidationError("--rounds, --shards, --inner-steps and --batch-size must be at least 1")
    }
    guard TrainableSet(rawValue: trainable) != nil else {
      throw ValidationError(
        "--trainable must be one of \(TrainableSet.spelled), got '\(trainable)'")
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
      artifacts: artifacts.map(absolute), traversal: !noTraversal)
    let examples = try LLaVAData.examples(path: settings.data).count
    let base = try DiLoCoRound.baseCheckpoint(settings)
    let runs = TrainingRuns(store: try options.context().store())
    let batch = try await runs.start(settings, base: base)
    let seen = rounds * shards * innerSteps * batchSize
    let epochs = Double(seen) / Double(max(examples, 1))
    if options.json {
      print(
        "{\"run\":\"\(name)\",\"batch\":\(batch),\"jobs\":\(rounds * (shards + 1)),\"examples\":\(examples),\"epochs\":\(epochs)}"
      )
    } else {
      print(
        "run \(name): batch \(batch), \(rounds * (shards + 1)) jobs; R·K·H·B = \(seen) examples seen of \(examples) (\(String(format: "%.2f", epochs)) epochs)"
      )
    }
  }
}
