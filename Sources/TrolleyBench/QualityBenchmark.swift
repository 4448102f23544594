import Foundation
public import Tensor
public import TroL
import TroLSynthesis
import TrolleyBasics

/// `trolley bench quality`: how far each traversal and compute mode moves a model's outputs from
/// exact mode (issue 19, item 3).
///
/// Exact mode is the engine's default: the checkpoint's 16-bit weights widened to f32, f32
/// products, traversal of every prompt position (`all`, the official code's). Each mode answers
/// the same image and question with greedy decoding and no stop token, so every run makes exactly
/// `newTokens` tokens. Per mode it reports, against exact mode with traversal `all` and against
/// exact mode with the mode's own traversal (the comparison that isolates the compute mode):
///
/// - the error of the logits at the last prompt position (which choose the first new token), as
///   max and mean |mode − exact| over the vocabulary, divided by the exact run's max |logit|;
/// - greedy agreement: the share of the `newTokens` positions where the mode's free-running token
///   equals exact mode's, and the first position where they differ (after one difference the
///   continuations usually part, so this is a strict measure).
///
/// With an easy-vqa questions file (`[[question, answer, image index], ...]`, images in an
/// `images` folder beside it, as `Ops/demo-model/easy-vqa-sample`), each mode also answers every
/// question through the engine's own answer path and is scored as `Ops/easy-vqa-score` scores the
/// demo (exact match after lowercasing and trimming).
public struct QualityBenchmark: Sendable {
  /// One way of running the model: where layers are traversed and how products multiply. The
  /// weights are what the compute mode needs: 16-bit for f32 and bf16, q8 for int8.
  public struct Mode: Sendable, Hashable {
    public var traversal: TraversalMode
    public var compute: ComputeMode
    public var weights: WeightFormat { compute.requiredWeights ?? .f16 }

    public init(traversal: TraversalMode, compute: ComputeMode) {
      self.traversal = traversal
      self.compute = compute
    }

    /// Exact mode: 16-bit weights, f32 compute, traversal `all`.
    public static let exact = Mode(traversal: .all, compute: .f32)
  }

  public struct Configuration: Sendable {
    /// The modes to compare (each against exact mode, which is always run).
    public var modes: [Mode] = TraversalMode.allCases.flatMap { traversal in
      ComputeMode.allCases.map { Mode(traversal: traversal, compute: $0) }
    }
    /// The image file of the logit and agreement comparison; nil: a synthetic sample image.
    public var image: String?
    /// The question asked about it.
    public var question: String = "What is in this image?"
    /// Greedy tokens each run generates (no stop token ends a run early). Default 64.
    public var newTokens: Int = 64
    /// An easy-vqa questions.json to score every mode on (nil: no accuracy).
    public var easyVQAQuestions: String?
    /// Score only the first this many questions (nil: all).
    public var easyVQALimit: Int?
    /// Most new tokens per easy-vqa answer (the demo's workers use 24).
    public var easyVQAMaxNewTokens: Int = 24

    public init() {}
  }

  /// One mode against one exact run.
  public struct Comparison: Sendable, Hashable, Encodable {
    /// max |mode − exact| over the last prompt position's logits, over the exact run's max |logit|.
    public var maxRelativeError: Double
    /// The mean of the same differences, over the same max |logit|.
    public var meanRelativeError: Double
    /// Positions (of `comparedTokens`) whose greedy token equals exact mode's.
    public var agreeingTokens: Int
    public var comparedTokens: Int
    /// The first position (0-based) where the tokens differ; nil when they never do.
    public var firstDifference: Int?

    public var agreement: Double {
      comparedTokens > 0 ? Double(agreeingTokens) / Double(comparedTokens) : 1
    }

    enum CodingKeys: String, SnakeCaseCodingKey {
      case maxRelativeError, meanRelativeError, agreeingTokens, comparedTokens, firstDifference,
        agreement
    }

    public func encode(to encoder: any Encoder) throws {
      var container = encoder.container(keyedBy: CodingKeys.self)
      try container.encode(maxRelativeError, forKey: .maxRelativeError)
      try container.encode(meanRelativeError, forKey: .meanRelativeError)
      try container.encode(agreeingTokens, forKey: .agreeingTokens)
      try container.encode(comparedTokens, forKey: .comparedTokens)
      try container.encode(firstDifference, forKey: .firstDifference)
      try container.encode(agreement, forKey: .agreement)
    }

    /// Compares one run's first-step logits and tokens with a reference run's.
    static func between(_ run: Run, _ reference: Run) -> Comparison {
      var maxDifference = 0.0
      var sumDifference = 0.0
      var scale = 0.0
      for (value, exact) in zip(run.lastPromptLogits, reference.lastPromptLogits) {
        let difference = abs(Double(value) - Double(exact))
        maxDifference = max(maxDifference, difference)
        sumDifference += difference
        scale = max(scale, abs(Double(exact)))
      }
      let count = Double(max(reference.lastPromptLogits.count, 1))
      // A reference whose logits are all zero cannot scale anything: report raw differences.
      let unit = scale > 0 ? scale : 1
      let compared = min(run.tokens.count, reference.tokens.count)
      var agreeing = 0
      var first: Int?
      for i in 0..<compared {
        if run.tokens[i] == reference.tokens[i] {
          agreeing += 1
        } else if first == nil {
          first = i
        }
      }
      return Comparison(
        maxRelativeError: maxDifference / unit, meanRelativeError: sumDifference / count / unit,
        agreeingTokens: agreeing, comparedTokens: compared, firstDifference: first)
    }
  }

  /// A mode's easy-vqa score.
  public struct Accuracy: Sendable, Hashable, Encodable {
    /// Questions answered exactly right.
    public var right: Int
    public var questions: Int
    /// Answers identical to exact mode's (same traversal `all`).
    public var sameAsExact: Int

    public var accuracy: Double { questions > 0 ? Double(right) / Double(questions) : 0 }

    enum CodingKeys: String, SnakeCaseCodingKey {
      case right, questions, sameAsExact, accuracy
    }

    public func encode(to encoder: any Encoder) throws {
      var container = encoder.container(keyedBy: CodingKeys.self)
      try container.encode(right, forKey: .right)
      try container.encode(questions, forKey: .questions)
      try container.encode(sameAsExact, forKey: .sameAsExact)
      try container.encode(accuracy, forKey: .accuracy)
    }
  }

  /// One mode's figures.
  public struct Row: Sendable, Hashable, Encodable {
    public var mode: Mode
    /// Against exact mode (traversal `all`).
    public var vsExact: Comparison
    /// Against exact compute with this mode's traversal.
    public var vsExactSameTraversal: Comparison
    /// Seconds of this mode's comparison run (vision, prefill and `newTokens` decode steps).
    public var seconds: Double
    /// The easy-vqa score, when a questions file was given.
    public var easyVQA: Accuracy?

    enum CodingKeys: String, SnakeCaseCodingKey {
      case traversal, compute, weights, vsExact, vsExactSameTraversal, seconds, easyVQA
    }

    public func encode(to encoder: any Encoder) throws {
      var container = encoder.container(keyedBy: CodingKeys.self)
      try container.encode(mode.traversal.rawValue, forKey: .traversal)
      try container.encode(mode.compute.rawValue, forKey: .compute)
      try container.encode(mode.weights.rawValue, forKey: .weights)
      try container.encode(vsExact, forKey: .vsExact)
      try container.encode(vsExactSameTraversal, forKey: .vsExactSameTraversal)
      try container.encode((seconds * 1000).rounded() / 1000, forKey: .seconds)
      try container.encodeIfPresent(easyVQA, forKey: .easyVQA)
    }
  }

  /// Everything one run measured.
  public struct Report: Sendable, Encodable {
    public var model: String
    /// The image file compared on, or "synthetic".
    public var image: String
    public var question: String
    public var promptTokens: Int
    public var newTokens: Int
    /// The exact run's max |logit| at the last prompt position (the errors' unit).
    public var exactMaxAbsLogit: Double
    /// Exact mode's first new tokens (up to 16), to see what was compared.
    public var exactTokens: [Int]
    public var rows: [Row]
    public var peak: MachinePeak?
    public var easyVQAQuestions: String?

    enum CodingKeys: String, SnakeCaseCodingKey {
      case model, image, question, promptTokens, newTokens, exactMaxAbsLogit, exactTokens, rows,
        peak, easyVQAQuestions
    }
  }

  /// What went wrong: an unreadable image or questions file, or a failed answer.
  public struct Failure: Error, CustomStringConvertible {
    public let description: String
  }

  /// One generation: its last-prompt-position logits and its greedy tokens.
  struct Run {
    var lastPromptLogits: [Float]
    var tokens: [Int]
    var seconds: Double
  }

  /// One easy-vqa question.
  struct Question {
    var text: String
    var answer: String
    var image: String
  }

  public let modelDirectory: String
  public let configuration: Configuration

  public init(modelDirectory: String, configuration: Configuration) {
    precondition(configuration.newTokens >= 1, "QualityBenchmark: at least one new token")
    self.modelDirectory = modelDirectory
    self.configuration = configuration
  }

  /// Loads the model once per weight and compute pair (exact first), runs every mode, and
  /// reports `row` as each mode finishes (1.8B runs take minutes per mode).
  ///
  /// - Throws: `TroLError` from loading or generation, `Failure` for the image or questions file.
  public func run(
    peak: MachinePeak? = nil, row: (Row) -> Void = { _ in },
    loading: (Mode) -> Void = { _ in }
  ) throws -> Report {
    let image =
      try configuration.image.map { try ImageDecoder().decode(contentsOfFile: $0) }
      ?? SampleImages.make(index: 0)
    let questions = try configuration.easyVQAQuestions.map(Self.readQuestions) ?? []
    let scored = Array(questions.prefix(configuration.easyVQALimit ?? questions.count))

    // Exact runs: traversal `all` for everyone, and each other traversal a mode uses.
    var exactRuns: [TraversalMode: Run] = [:]
    var exactAnswers: [String] = []
    var runs: [Mode: Run] = [:]
    var answers: [Mode: [String]] = [:]
    var promptTokens = 0
    // Engines in the order exact compute, then the others; one loaded at a time.
    let computes =
      [ComputeMode.f32]
      + ComputeMode.allCases.filter { compute in
        compute != .f32 && configuration.modes.contains { $0.compute == compute }
      }
    var rows: [Row] = []
    for compute in computes {
      let modes = configuration.modes.filter { $0.compute == compute }
      var traversals = modes.map(\.traversal)
      if compute == .f32 {
        traversals =
          [.all]
          + TraversalMode.allCases.filter { t in
            t != .all && configuration.modes.contains { $0.traversal == t }
          }
      }
      guard let first = modes.first ?? (compute == .f32 ? Mode.exact : nil) else { continue }
      loading(first)
      let engine = try TroLEngine.load(
        modelDirectory: modelDirectory, weights: first.weights, compute: compute)
      let (tokens, features) = try prepare(engine: engine, image: image)
      promptTokens = tokens.count
      for traversal in traversals {
        let mode = Mode(traversal: traversal, compute: compute)
        let run = try generate(engine: engine, tokens: tokens, features: features, mode: mode)
        runs[mode] = run
        if compute == .f32 { exactRuns[traversal] = run }
        let scoresThis = configuration.modes.contains(mode) || mode == .exact
        if !scored.isEmpty, scoresThis {
          answers[mode] = try answer(scored, engine: engine, traversal: traversal)
          if mode == .exact { exactAnswers = answers[mode] ?? [] }
        }
        guard configuration.modes.contains(mode), let exact = exactRuns[.all],
          let sameTraversal = exactRuns[traversal]
        else { continue }
        var accuracy: Accuracy?
        if let given = answers[mode] {
          accuracy = Accuracy(
            right: zip(given, scored).filter { Self.normalized($0) == Self.normalized($1.answer) }
              .count,
            questions: scored.count,
            sameAsExact: zip(given, exactAnswers).filter { $0 == $1 }.count)
        }
        let made = Row(
          mode: mode, vsExact: .between(run, exact),
          vsExactSameTraversal: .between(run, sameTraversal), seconds: run.seconds,
          easyVQA: accuracy)
        rows.append(made)
        row(made)
      }
    }
    let exact = exactRuns[.all]
    return Report(
      model: modelDirectory, image: configuration.image ?? "synthetic",
      question: configuration.question, promptTokens: promptTokens,
      newTokens: configuration.newTokens,
      exactMaxAbsLogit: exact.map { $0.lastPromptLogits.reduce(0) { max($0, Double(abs($1))) } }
        ?? 0,
      exactTokens: Array((exact?.tokens ?? []).prefix(16)), rows: rows, peak: peak,
      easyVQAQuestions: configuration.easyVQAQuestions)
  }

  /// The prompt's token ids and the image's features under this engine's compute mode (vision
  /// products follow it too).
  private func prepare(engine: TroLEngine, image: RGBImage) throws -> ([Int], ImageFeatures) {
    let pixels = engine.preprocessor.pixels(for: image)
    let values = try pixels.pixels.withUnsafeBufferPointer {
      try engine.model.imageFeatures(pixels: $0)
    }
    let features = ImageFeatures(values: values, rows: values.count / engine.model.shape.hidden)
    let text = try engine.template.prompt(
      question: configuration.question, imageTokens: features.rows)
    return (engine.tokenizer.encode(text), features)
  }

  /// Greedy generation of exactly `newTokens` tokens, recording the first step's logits.
  private func generate(
    engine: TroLEngine, tokens: [Int], features: ImageFeatures, mode: Mode
  ) throws -> Run {
    let generator = Generator(model: engine.model)
    generator.recordLogits = true
    let options = GenerationOptions(
      strategy: .greedy, maxNewTokens: configuration.newTokens, stopTokenIDs: [],
      traversal: TraversalPolicy(mode: mode.traversal))
    let start = Date()
    let output = try generator.generate([
      GenerationPrompt(tokens: tokens, image: features, options: options)
    ])[0]
    let seconds = Date().timeIntervalSince(start)
    let V = engine.model.shape.vocabulary
    let logits = output.stepLogits ?? []
    return Run(
      lastPromptLogits: Array(logits.prefix(V)), tokens: output.tokens, seconds: seconds)
  }

  /// Every question's answer text, each image's questions in one engine call (the image encoded
  /// once, its prefix shared), as a worker batches them.
  private func answer(_ questions: [Question], engine: TroLEngine, traversal: TraversalMode)
    throws -> [String]
  {
    var answers = [String](repeating: "", count: questions.count)
    var order: [String] = []
    var byImage: [String: [Int]] = [:]
    for (i, question) in questions.enumerated() {
      if byImage[question.image] == nil { order.append(question.image) }
      byImage[question.image, default: []].append(i)
    }
    let options = GenerationOptions(
      strategy: .greedy, maxNewTokens: configuration.easyVQAMaxNewTokens,
      traversal: TraversalPolicy(mode: traversal))
    for image in order {
      let indices = byImage[image] ?? []
      let requests = indices.map {
        AnswerRequest(image: .file(path: image), question: questions[$0].text, options: options)
      }
      for (i, result) in zip(indices, engine.answer(requests: requests)) {
        switch result {
        case .success(let answer): answers[i] = answer.answer
        case .failure(let error):
          throw Failure(description: "easy-vqa question \(i) (\(image)): \(error)")
        }
      }
    }
    return answers
  }

  /// Reads `[[question, answer, image index], ...]`; images are `images/<index>.png` beside it.
  static func readQuestions(_ path: String) throws -> [Question] {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw Failure(description: "cannot read the easy-vqa questions file \(path)")
    }
    guard let rows = try? JSONSerialization.jsonObject(with: data) as? [[Any]] else {
      throw Failure(
        description:
          "\(path) is not an easy-vqa questions file: expected a JSON array of [question, answer, image index] rows"
      )
    }
    let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
      .appendingPathComponent("images")
    var questions: [Question] = []
    for (n, row) in rows.enumerated() {
      guard row.count >= 3, let text = row[0] as? String, let answer = row[1] as? String,
        let index = (row[2] as? NSNumber)?.intValue
      else {
        throw Failure(
          description: "\(path): row \(n) is not [question, answer, image index]: \(row)")
      }
      let image = folder.appendingPathComponent("\(index).png").path
      guard FileManager.default.fileExists(atPath: image) else {
        throw Failure(
          description:
            "\(path): row \(n) names image \(index), but \(image) does not exist (images go in an images folder beside the questions file)"
        )
      }
      questions.append(Question(text: text, answer: answer, image: image))
    }
    guard !questions.isEmpty else { throw Failure(description: "\(path) has no questions") }
    return questions
  }

  /// As `Ops/easy-vqa-score` compares answers: lowercased, surrounding whitespace trimmed.
  static func normalized(_ text: String) -> String {
    text.lowercased().trimmingCharacters(in: .whitespacesAndNewlines)
  }
}
