import ArgumentParser
import Foundation
import Tensor
import TroL
import TrolleyCLIKit

/// `trolley ask`: one question about one image, answered by a TroL checkpoint.
struct Ask: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Answer a question about an image with a TroL model and print the answer and timings.",
    discussion: """
      On a terminal, the stages (loading, image, vision, prefill) show on standard error and \
      the answer appears token by token; piped or with --json, output is only the result.

      Greedy decoding is the default (the official demo's); --beams N uses Hugging Face's beam \
      search (the paper's benchmarks use 5); --sample draws with temperature and top-p from a seed.

      Examples:
        trolley ask --model ~/models/TroL-1.8B --image cat.jpg --question 'What is the cat doing?'
        trolley ask --model /tmp/tiny --image a.png --question 'Describe it.' --beams 5 --json
      """)

  @Option(help: "The model folder (config.json, model.safetensors, trol_gating.pt, tokenizer).")
  var model: String

  @Option(help: "An image (JPEG, PNG, WebP, GIF or BMP); omit for a text-only question.")
  var image: String?

  @Option(help: "The question.")
  var question: String

  @Option(help: "Beam search with this many beams (length penalty 1, no early stopping).")
  var beams: Int?

  @Flag(help: "Sample instead of taking the most likely token.")
  var sample = false

  @Option(help: "Sampling temperature (with --sample).")
  var temperature: Float = 1.0

  @Option(
    name: .customLong("top-p"),
    help: "Sampling nucleus: keep the most likely tokens up to this probability (with --sample).")
  var topP: Float = 1.0

  @Option(
    name: .customLong("top-k"),
    help:
      "Sampling: keep at most this many tokens; 0 keeps all (with --sample; Hugging Face's default is 50)."
  )
  var topK: Int = 50

  @Option(help: "Sampling seed (with --sample); the same seed gives the same answer.")
  var seed: UInt64 = 0

  @Option(help: "Most new tokens to generate.")
  var maxNewTokens: Int = 256

  @OptionGroup var engineOptions: EngineOptions

  @Option(
    help:
      "Propagations per layer over the traversed positions: 2 is TroL, 3+ traverses more (--traversal off means 1)."
  )
  var propagations: Int = 2

  @Flag(help: "Also traverse generated tokens (re-runs the whole sequence per token; an ablation).")
  var traverseGenerated = false

  @Option(help: "Threads for the engine's kernels and OpenBLAS (default: all cores).")
  var threads: Int?

  @Flag(help: "Print one JSON object (answer, prompt_token_ids, token_ids, timings, ...).")
  var json = false

  func validate() throws {
    if let beams, beams < 1 { throw ValidationError("--beams must be at least 1") }
    if beams != nil && sample { throw ValidationError("--beams and --sample exclude each other") }
    if !sample && (temperature != 1 || topP != 1) {
      throw ValidationError("--temperature and --top-p need --sample")
    }
    guard temperature > 0 else { throw ValidationError("--temperature must be positive") }
    guard topP > 0 && topP <= 1 else { throw ValidationError("--top-p must be in (0, 1]") }
    guard topK >= 0 else { throw ValidationError("--top-k must be 0 or more") }
    guard maxNewTokens >= 1 else { throw ValidationError("--max-new-tokens must be at least 1") }
    guard propagations >= 1 && propagations <= 8 else {
      throw ValidationError("--propagations must be 1...8")
    }
    if engineOptions.traversalMode == .question && traverseGenerated {
      throw ValidationError("--traversal question and --traverse-generated exclude each other")
    }
    if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
  }

  func run() throws {
    TensorThreads.configure(count: threads ?? ProcessInfo.processInfo.activeProcessorCount)
    let loadStart = Date()
    // Progress goes to a terminal only: scripts and pipes get exactly what they got before.
    let showStages = Terminal.isTerminal(2)
    if showStages { AskProgress.loading(model) }
    let engine = try TroLEngine.load(
      modelDirectory: model, weights: engineOptions.weightFormat, compute: engineOptions.computeMode
    )
    let loadSeconds = Date().timeIntervalSince(loadStart)
    let display = AskProgress(
      engine: engine, showStages: showStages, streamTokens: !json && Terminal.isTerminal(1))
    let strategy: GenerationOptions.Strategy
    if let beams {
      strategy = .beamSearch(beams: beams)
    } else if sample {
      strategy = .sampling(
        temperature: temperature, topP: topP, topK: topK == 0 ? nil : topK, seed: seed)
    } else {
      strategy = .greedy
    }
    let mode = engineOptions.traversalMode ?? engine.model.config.defaultTraversal
    let options = GenerationOptions(
      strategy: strategy, maxNewTokens: maxNewTokens,
      traversal: TraversalPolicy(
        propagations: mode == .off ? 1 : propagations, traverseGeneratedTokens: traverseGenerated,
        questionOnly: mode == .question))
    let result: AnswerResult
    do {
      result = try engine.answer(
        AnswerRequest(
          image: image.map { .file(path: $0) }, question: question, options: options,
          progress: display.progress()))
    } catch {
      _ = display.finish(answer: "")
      throw error
    }
    let alreadyShown = display.finish(answer: result.answer)
    if json {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys]
      print(
        String(
          decoding: try encoder.encode(
            AskOutput(
              result: result, loadSeconds: loadSeconds, weights: engineOptions.weights,
              traversal: mode.rawValue)),
          as: UTF8.self))
      return
    }
    let t = result.timings
    if !alreadyShown { print(result.answer) }
    print(
      String(
        format:
          "\nload %.2f s · image %.3f s · vision %.2f s · prefill %.2f s (%d tokens, %.1f tok/s) · decode %.2f s (%d tokens, %.2f tok/s) · %@ weights",
        loadSeconds, t.imagePreprocessingSeconds, t.visionSeconds, t.prefillSeconds,
        t.prefillTokens,
        t.prefillSeconds > 0 ? Double(t.prefillTokens) / t.prefillSeconds : 0, t.decodeSeconds,
        t.decodeTokens,
        t.decodeTokensPerSecond, engineOptions.weights))
  }
}

/// `ask --json`: the engine's result plus how the model was loaded.
private struct AskOutput: Encodable {
  var result: AnswerResult
  var loadSeconds: Double
  var weights: String
  var traversal: String

  enum CodingKeys: String, CodingKey {
    case answer, prompt_token_ids, token_ids, finish_reason, beam_score, timings, load_s, weights,
      traversal
  }

  func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(result.answer, forKey: .answer)
    try c.encode(result.promptTokenIDs, forKey: .prompt_token_ids)
    try c.encode(result.tokenIDs, forKey: .token_ids)
    try c.encode(result.finishReason, forKey: .finish_reason)
    try c.encodeIfPresent(result.beamScore, forKey: .beam_score)
    try c.encode(result.timings, forKey: .timings)
    try c.encode(loadSeconds, forKey: .load_s)
    try c.encode(weights, forKey: .weights)
    try c.encode(traversal, forKey: .traversal)
  }
}
