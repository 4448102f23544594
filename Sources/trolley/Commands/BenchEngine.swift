import ArgumentParser
import Foundation
import Tensor
import TroL

/// `trolley bench engine`: kernel micro-benchmarks (and, with a model, model-level timings).
struct BenchEngine: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "engine",
    abstract: "Benchmark the engine: weight kernels next to the machine's measured peaks.",
    discussion: """
      --kernels times the matrix products of TroL-1.8B's language model (D 2048, wqkv 4096, \
      intermediate 8192, vocabulary 92544) for each weight format at decode batch sizes and \
      a prefill-sized batch, next to a measured FMA peak and streaming read bandwidth, and \
      estimates decode tokens/s for the whole model.

      Examples:
        trolley bench engine --kernels --threads 2
        trolley model synth --like 1.8b --out /tmp/trol-1.8b
        trolley bench engine --model /tmp/trol-1.8b --formats f16,q8 --decode-rows 1,8
      """
  )

  @Flag(help: "Run the weight-kernel micro-benchmarks.")
  var kernels = false

  @Flag(
    help:
      "Time the prefill products (--prefill-rows rows, TroL-1.8B shapes) in each compute mode (f32, bf16, int8) next to the FMA peak."
  )
  var computeModes = false

  @Option(
    help:
      "A TroL checkpoint folder: also time the whole model (vision, traversed prefill, decode at each batch size, prefix sharing) per weight format."
  )
  var model: String?

  @OptionGroup var runOptions: BenchRunOptions

  @Option(
    help: "Comma-separated weight formats to measure: f32, f16, bf16, q8, q4 (default: all).",
    transform: { try CommaSeparated.values($0, option: "--formats") })
  var formats: [KernelFormat] = KernelFormat.allCases

  @Option(help: "Comma-separated decode batch sizes (activation rows).")
  var decodeRows: String = "1,8"

  @Option(help: "Rows of the prefill products (prompt tokens); 0 skips prefill.")
  var prefillRows: Int = 1300

  @Option(help: "Seconds each measurement repeats for; the best repetition is reported.")
  var seconds: Double = 0.3

  @Option(help: "With --model: questions on one image for the prefix-sharing timing (0 skips it).")
  var sharedQuestions: Int = 4

  @Option(help: "With --model: tokens each decode measurement generates per sequence.")
  var decodeTokens: Int = 16

  @Flag(help: "With --model: skip the image (vision and traversed prefill); time decode only.")
  var noImage = false

  @Flag(help: "With --model: time vision and prefill for every format, not only the first.")
  var prefillEveryFormat = false

  @Option(
    help:
      "With --model: comma-separated traversal modes to time the image prefill with, one row each: all (the official code's, default), question, off.",
    transform: { try CommaSeparated.values($0, option: "--traversal") })
  var traversal: [TraversalMode] = [.all]

  func validate() throws {
    guard kernels || computeModes || model != nil else {
      throw ValidationError("nothing to run: pass --kernels, --compute-modes and/or --model DIR")
    }
    guard parsedDecodeRows() != nil else {
      throw ValidationError("--decode-rows must be positive integers separated by commas, e.g. 1,8")
    }
    guard prefillRows >= 0 else { throw ValidationError("--prefill-rows must be 0 or more") }
    guard seconds > 0 else { throw ValidationError("--seconds must be positive") }
    guard sharedQuestions >= 0 else {
      throw ValidationError("--shared-questions must be 0 or more")
    }
    guard decodeTokens >= 1 else { throw ValidationError("--decode-tokens must be at least 1") }
  }

  func parsedDecodeRows() -> [Int]? {
    let rows = decodeRows.split(separator: ",").map { Int($0) }
    guard !rows.isEmpty, rows.allSatisfy({ ($0 ?? 0) > 0 }) else { return nil }
    return rows.compactMap { $0 }
  }

  func run() async throws {
    runOptions.configureThreads()
    if let model { try runModel(model) }
    if computeModes { try ComputeModeTable.run(rows: max(prefillRows, 16), seconds: seconds) }
    guard kernels else { return }
    var configuration = KernelBenchmark.Configuration()
    configuration.formats = formats
    configuration.decodeRows = parsedDecodeRows() ?? [1]
    configuration.prefillRows = prefillRows
    configuration.minimumSeconds = seconds
    try runOptions.report(
      header:
        "threads \(TensorThreads.count) (OpenBLAS \(TensorThreads.blasCount)); measuring peaks...\n"
        + KernelTable.measurementHeader,
      { line in KernelBenchmark.run(configuration) { line(KernelTable.line($0)) } },
      summary: KernelTable.summary)
  }
}
