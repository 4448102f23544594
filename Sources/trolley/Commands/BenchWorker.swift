import ArgumentParser
import Foundation
import Tensor
import TroL
import TrolleyBench
import TrolleyWorkers

/// `trolley bench worker`: images per hour of answer jobs at each engine batch size.
struct BenchWorker: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "worker",
    abstract: "Measure a worker's answer throughput (images per hour) at each engine batch size.",
    discussion: """
      Answers --images synthetic images with one question through the worker's own engine path \
      (the trol.answer kind: image file read and decoded, one engine call per batch), in \
      consecutive batches of each --batch-sizes value, as `trolley worker --batch-size B` runs \
      them; the queue is left out (its cost per job is microseconds: see `trolley bench queue`). \
      One untimed answer warms the engine up first. Every batch size answers the same images, so \
      their answers must agree: the last column says whether they do.

      Reported per batch size: images/hour, seconds per image, generated tokens and generated \
      tokens per wall second (vision and prefill included).

      Examples:
        trolley model synth --like tiny --out /tmp/tiny && trolley bench worker --model /tmp/tiny
        trolley bench worker --model ~/models/TroL-1.8B --images 16 --batch-sizes 1,4 --json
      """)

  @Option(
    help: ArgumentHelp(
      "A TroL checkpoint folder (or one made by `trolley model synth`).", valueName: "dir"))
  var model: String

  @Option(help: "Distinct images answered per batch size.")
  var images: Int = 16

  @Option(
    help: ArgumentHelp("Comma-separated engine batch sizes.", valueName: "sizes"),
    transform: { try CommaSeparated.integers($0, option: "--batch-sizes", in: 1...256) })
  var batchSizes: [Int] = [1, 4]

  @Option(help: "Most new tokens per answer (the worker's --max-new-tokens).")
  var maxNewTokens: Int = 64

  @Option(help: "The question asked about every image.")
  var question: String = WorkerBenchmark.Configuration().question

  @OptionGroup var engineOptions: EngineOptions

  @Option(
    help:
      "Questions per image (enqueued question by question; the worker batches one image's together)."
  )
  var questionsPerImage: Int = 1

  @OptionGroup var runOptions: BenchRunOptions

  func validate() throws {
    guard (1...100_000).contains(images) else {
      throw ValidationError("--images must be between 1 and 100000, got \(images)")
    }
    guard (1...EngineJobSettings.maxNewTokensLimit).contains(maxNewTokens) else {
      throw ValidationError(
        "--max-new-tokens must be 1...\(EngineJobSettings.maxNewTokensLimit), got \(maxNewTokens)")
    }
    guard (1...16).contains(questionsPerImage) else {
      throw ValidationError("--questions-per-image must be 1...16, got \(questionsPerImage)")
    }
    guard !question.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
      throw ValidationError("--question must not be empty")
    }
  }

  func run() async throws {
    runOptions.configureThreads()
    let engine = try TroLEngine.load(
      modelDirectory: model, weights: engineOptions.weightFormat, compute: engineOptions.computeMode
    )
    var configuration = WorkerBenchmark.Configuration()
    configuration.images = images
    configuration.batchSizes = batchSizes
    configuration.question = question
    configuration.maxNewTokens = maxNewTokens
    configuration.traversal = engineOptions.traversalMode ?? engine.model.config.defaultTraversal
    configuration.questionsPerImage = questionsPerImage
    let name = URL(fileURLWithPath: model).standardizedFileURL.lastPathComponent
    let benchmark = WorkerBenchmark(engine: engine, modelName: name, configuration: configuration)
    let json = runOptions.json
    // The machine's peaks, measured in the same run: on a shared machine the figures below
    // mean little without them.
    let peak = MachinePeak.measure(minimumSeconds: 0.3)
    if !json {
      let (weights, compute, traversal) =
        (engineOptions.weights, engineOptions.compute, configuration.traversal.rawValue)
      print(
        "model \(name) (\(weights) weights, \(compute) compute, traversal \(traversal)), "
          + "\(images) images x \(questionsPerImage) questions, up to \(maxNewTokens) new tokens, "
          + "threads \(TensorThreads.count)")
      print(
        String(
          format: "f32 FMA peak %.1f GFLOPS (wall), %.1f per CPU-second; read %.1f GB/s",
          peak.fmaGFLOPS, peak.fmaGFLOPSCPU, peak.readGBPerSecond))
      print(WorkerBenchmark.tableHeader)
    }
    // Engine batches of a large model take minutes: a terminal sees them go by on stderr.
    let live = isatty(STDERR_FILENO) == 1
    var report = try await benchmark.run(
      progress: { run in
        if live { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        if !json { print(run.tableLine) }
      },
      step: { batchSize, done, total in
        guard live else { return }
        FileHandle.standardError.write(
          Data("\r\u{1B}[Kbatch size \(batchSize): \(done)/\(total) images".utf8))
      })
    if json {
      report.threads = TensorThreads.count
      report.compute = engineOptions.compute
      report.peak = peak
      try printReport(report)
    }
  }
}
