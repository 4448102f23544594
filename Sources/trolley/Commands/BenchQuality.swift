import ArgumentParser
import Foundation
import Tensor
import TroL
import TrolleyBench

/// `trolley bench quality`: how far each traversal and compute mode moves the answers from exact
/// mode (issue 19, item 3).
struct BenchQuality: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "quality",
    abstract:
      "Compare each traversal and compute mode's logits, tokens and accuracy with exact mode.",
    discussion: """
      Exact mode is the default engine: the checkpoint's 16-bit weights, f32 compute, traversal \
      all. Every mode in --traversal × --compute (weights f16 for f32 and bf16, q8 for int8) \
      answers the same image and question greedily for --new-tokens tokens (no stop token), and \
      is compared with exact mode (traversal all) and with exact compute under its own \
      traversal: the last prompt position's logit error, max and mean over the vocabulary, \
      relative to exact mode's max |logit|; the share of the new tokens equal to exact mode's \
      at the same position, and the first position that differs. With --easy-vqa-questions, \
      every mode also answers those questions (images/<n>.png beside the file) and is scored \
      as Ops/easy-vqa-score scores the demo.

      Examples:
        trolley bench quality --model Tests/Fixtures/trol-tiny/internlm2/model \\
          --image Tests/Fixtures/trol-tiny/internlm2/image.png
        trolley model synth --like 1.8b --layers 2 --out /tmp/q18 && trolley bench quality --model /tmp/q18
        trolley bench quality --model Ops/demo-model \\
          --easy-vqa-questions Ops/demo-model/easy-vqa-sample/questions.json
      """)

  @Option(
    help: ArgumentHelp(
      "A TroL checkpoint folder (or one made by `trolley model synth`).", valueName: "dir"))
  var model: String

  @Option(
    help: ArgumentHelp(
      "The image of the logit and token comparison (default: a synthetic sample image).",
      valueName: "file"))
  var image: String?

  @Option(help: "The question asked about it.")
  var question: String = QualityBenchmark.Configuration().question

  @Option(
    help: "Comma-separated traversal modes: all, question, off.",
    transform: { try CommaSeparated.values($0, option: "--traversal") })
  var traversal: [TraversalMode] = TraversalMode.allCases

  @Option(
    help: "Comma-separated compute modes: f32, bf16 (with f16 weights), int8 (with q8 weights).",
    transform: { try CommaSeparated.values($0, option: "--compute") })
  var compute: [ComputeMode] = ComputeMode.allCases

  @Option(help: "Greedy tokens each mode generates and is compared on.")
  var newTokens: Int = 64

  @Option(
    help: ArgumentHelp(
      "An easy-vqa questions.json ([question, answer, image] rows, images/<n>.png beside it): score each mode's answers.",
      valueName: "file"))
  var easyVQAQuestions: String?

  @Option(help: "With --easy-vqa-questions: score only the first N questions.")
  var easyVQALimit: Int?

  @Option(help: "With --easy-vqa-questions: most new tokens per answer.")
  var easyVQAMaxNewTokens: Int = 24

  @OptionGroup var runOptions: BenchRunOptions

  func validate() throws {
    guard (1...4096).contains(newTokens) else {
      throw ValidationError("--new-tokens must be 1...4096, got \(newTokens)")
    }
    guard (1...256).contains(easyVQAMaxNewTokens) else {
      throw ValidationError("--easy-vqa-max-new-tokens must be 1...256")
    }
    if let easyVQALimit, easyVQALimit < 1 {
      throw ValidationError("--easy-vqa-limit must be at least 1")
    }
    guard !question.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
      throw ValidationError("--question must not be empty")
    }
  }

  func run() throws {
    runOptions.configureThreads()
    var configuration = QualityBenchmark.Configuration()
    configuration.modes = traversal.flatMap { t in
      compute.map { QualityBenchmark.Mode(traversal: t, compute: $0) }
    }
    configuration.image = image
    configuration.question = question
    configuration.newTokens = newTokens
    configuration.easyVQAQuestions = easyVQAQuestions
    configuration.easyVQALimit = easyVQALimit
    configuration.easyVQAMaxNewTokens = easyVQAMaxNewTokens
    let json = runOptions.json
    let peak = MachinePeak.measure(minimumSeconds: 0.3)
    if !json {
      print(
        String(
          format:
            "model %@, %d new tokens, threads %d; f32 FMA peak %.1f GFLOPS (wall), %.1f per CPU-second",
          model, newTokens, TensorThreads.count, peak.fmaGFLOPS, peak.fmaGFLOPSCPU))
      print(QualityTable.header(easyVQA: easyVQAQuestions != nil))
    }
    let benchmark = QualityBenchmark(modelDirectory: model, configuration: configuration)
    let live = isatty(STDERR_FILENO) == 1
    // A missing image or a malformed questions file fails with its name (exit 1).
    let report = try benchmark.run(
      peak: peak,
      row: { row in
        if live { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        if !json { print(QualityTable.line(row)) }
      },
      loading: { mode in
        guard live else { return }
        FileHandle.standardError.write(
          Data(
            "\r\u{1B}[Kloading \(mode.weights.rawValue) weights, \(mode.compute.rawValue) compute..."
              .utf8))
      })
    if json {
      try printReport(report)
    } else {
      print(
        String(
          format: "prompt %d tokens; exact mode's max |logit| %.4g; its first tokens %@",
          report.promptTokens, report.exactMaxAbsLogit,
          report.exactTokens.map(String.init).joined(separator: " ")))
    }
  }
}

/// The text table of `bench quality`.
enum QualityTable {
  static func header(easyVQA: Bool) -> String {
    "traversal compute weights | vs exact (all): max-err  mean-err  agree  first-diff"
      + " | vs exact (same traversal): max-err  mean-err  agree  first-diff"
      + (easyVQA ? " | easy-vqa accuracy  same-as-exact" : "")
  }

  static func line(_ row: QualityBenchmark.Row) -> String {
    func pad(_ text: String, _ width: Int) -> String {
      text.padding(toLength: max(width, text.count), withPad: " ", startingAt: 0)
    }
    func comparison(_ c: QualityBenchmark.Comparison) -> String {
      let first = c.firstDifference.map(String.init) ?? "none"
      return String(
        format: "%9.2e  %9.2e  %5.1f%%  ", c.maxRelativeError, c.meanRelativeError,
        100 * c.agreement) + String(repeating: " ", count: max(10 - first.count, 0)) + first
    }
    var text =
      pad(row.mode.traversal.rawValue, 9) + " " + pad(row.mode.compute.rawValue, 7) + " "
      + pad(row.mode.weights.rawValue, 7) + " |         " + comparison(row.vsExact)
      + " |                   " + comparison(row.vsExactSameTraversal)
    if let accuracy = row.easyVQA {
      text += String(
        format: " | %5.1f%% (%d/%d)  %d/%d", 100 * accuracy.accuracy, accuracy.right,
        accuracy.questions, accuracy.sameAsExact, accuracy.questions)
    }
    return text
  }
}
