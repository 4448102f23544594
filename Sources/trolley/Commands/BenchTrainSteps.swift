import ArgumentParser
import Foundation
import Tensor
import Training
import TrolleyBench

/// `trolley bench train-steps`: one machine's optimizer steps (issue 16, item 6). The
/// multi-worker part of the training benchmark is `trolley bench train --workers` (issue 17,
/// BenchTrain.swift), with its own options.
struct BenchTrainSteps: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "train-steps",
    abstract:
      "Measure training: seconds per optimizer step, GFLOPS next to sgemm, peak memory.",
    discussion: """
      Runs one untimed and then --steps timed optimizer steps (batch 1) on one synthetic sample \
      (one image tile with random features, a question and a --answer-words answer) for each \
      --trainable set and --weights format of the frozen base. Reports seconds per step, the \
      GFLOP of the step's products (forward, the per-layer recomputation and the backward, \
      counted product by product), the achieved GFLOPS next to OpenBLAS sgemm measured in the \
      same run, and the process's peak RSS after each case (cumulative: run one case per \
      invocation for its own figure).

      Examples:
        trolley bench train-steps --model Tests/Fixtures/trol-tiny/internlm2/model
        trolley model synth --like 1.8b --layers 2 --out /tmp/trol-1.8b-2
        nice -n 5 trolley bench train-steps --model /tmp/trol-1.8b-2 --trainable step2 --weights q4
      """)

  @Option(
    help: ArgumentHelp(
      "A TroL checkpoint folder (or one from `trolley model synth`).", valueName: "dir"))
  var model: String

  @Option(help: "Comma-separated trainable sets: step1, step2, all.")
  var trainable: String = "step1,step2"

  @Option(help: "Comma-separated frozen-base formats: f32, f16, q8, q4.")
  var weights: String = "f16"

  @Option(help: "Timed optimizer steps per case.")
  var steps: Int = 2

  @Option(help: "LoRA rank and alpha (step2).")
  var loraRank: Int = 64
  @Option(help: "LoRA alpha (step2).")
  var loraAlpha: Double = 64

  @Option(help: "Words in the synthetic answer.")
  var answerWords: Int = 16

  @Flag(help: "Train without TroL's traversal (each layer once, no gate).")
  var noTraversal = false

  @OptionGroup var runOptions: BenchRunOptions

  func sets() throws -> [TrainableSet] {
    try CommaSeparated.values(trainable, option: "--trainable")
  }

  func formats() throws -> [WeightFormat] {
    try CommaSeparated.values(weights, option: "--weights")
  }

  func validate() throws {
    guard try !sets().isEmpty, try !formats().isEmpty else {
      throw ValidationError("--trainable and --weights need at least one value each")
    }
    guard (1...1000).contains(steps) else { throw ValidationError("--steps must be 1...1000") }
    guard loraRank >= 1 else { throw ValidationError("--lora-rank must be at least 1") }
    guard (1...2000).contains(answerWords) else {
      throw ValidationError("--answer-words must be 1...2000")
    }
  }

  func run() throws {
    runOptions.configureThreads()
    let configuration = TrainingBenchmark.Configuration(
      model: model, sets: try sets(), formats: try formats(), steps: steps, loraRank: loraRank,
      loraAlpha: loraAlpha, answerWords: answerWords, traversal: !noTraversal)
    try runOptions.report(
      header: "model \(model), OpenBLAS threads \(TensorThreads.blasCount); measuring sgemm...",
      { line in
        try TrainingBenchmark.run(configuration) { r in
          line(
            String(
              format:
                "%@ %@ | %d tokens (%d answer) | load %.1f s | %.3f s/step | %.2f GFLOP/step | %.1f GFLOPS = %.0f%% of sgemm | peak RSS %.2f GiB",
              r.trainable, r.weights, r.tokens, r.answerTokens, r.loadSeconds, r.secondsPerStep,
              r.productGFLOP, r.gflops, 100 * r.fractionOfSgemm,
              Double(r.peakRSSBytes) / Double(1 << 30)))
        }
      },
      summary: {
        String(format: "sgemm (OpenBLAS, 1024×2048·2048×2048): %.1f GFLOPS", $0.sgemmGFLOPS)
      })
  }
}
