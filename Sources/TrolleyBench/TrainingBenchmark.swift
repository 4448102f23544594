import Foundation
public import Tensor
public import Training
import TroL
import TrolleyBasics

/// `trolley bench train` on one machine (issue 16, item 6): seconds per optimizer step of one
/// sample for each trainable set and frozen-weight format, the products' achieved GFLOPS next to
/// OpenBLAS sgemm measured in the same run, and the process's peak RSS. (The multi-worker part of
/// `bench train`, issue 17, lives beside this one.)
public enum TrainingBenchmark {
  public struct Configuration: Sendable {
    public var model: String
    public var sets: [TrainableSet]
    public var formats: [WeightFormat]
    /// Timed optimizer steps per case (after one untimed step).
    public var steps: Int
    public var loraRank: Int
    public var loraAlpha: Double
    /// Words in the synthetic answer (each a few tokens).
    public var answerWords: Int
    public var traversal: Bool

    public init(
      model: String, sets: [TrainableSet], formats: [WeightFormat], steps: Int = 2,
      loraRank: Int = 64, loraAlpha: Double = 64, answerWords: Int = 16, traversal: Bool = true
    ) {
      self.model = model
      self.sets = sets
      self.formats = formats
      self.steps = steps
      self.loraRank = loraRank
      self.loraAlpha = loraAlpha
      self.answerWords = answerWords
      self.traversal = traversal
    }
  }

  public struct Result: Sendable, Codable {
    public var trainable: String
    public var weights: String
    /// Sequence length and scored answer tokens of the sample.
    public var tokens: Int
    public var answerTokens: Int
    public var loadSeconds: Double
    public var secondsPerStep: Double
    /// Floating-point work of one step's products (forward, recomputation, backward), GFLOP.
    public var productGFLOP: Double
    public var gflops: Double
    public var fractionOfSgemm: Double
    /// The process's peak resident set after this case (cumulative over the run's cases).
    public var peakRSSBytes: Int
  }

  public struct Report: Sendable, Codable {
    public var model: String
    /// OpenBLAS sgemm on a training-sized product, GFLOP/s, measured in this run.
    public var sgemmGFLOPS: Double
    public var blasThreads: Int
    public var results: [Result]
  }

  public static func run(
    _ configuration: Configuration, progress: (Result) -> Void = { _ in }
  ) throws -> Report {
    let peak = measureSgemm()
    var results: [Result] = []
    for set in configuration.sets {
      for format in configuration.formats {
        let result = try measure(configuration, set: set, format: format, sgemm: peak)
        progress(result)
        results.append(result)
      }
    }
    return Report(
      model: configuration.model, sgemmGFLOPS: peak, blasThreads: TensorThreads.blasCount,
      results: results)
  }

  static func measure(
    _ c: Configuration, set: TrainableSet, format: WeightFormat, sgemm: Double
  ) throws -> Result {
    let loadStart = Date()
    let model = try TrainingModel<Float>(path: c.model, format: format)
    model.traversal = c.traversal
    try model.prepare(set, loraRank: c.loraRank, loraAlpha: c.loraAlpha, seed: 1)
    let builder = try SampleBuilder(modelDirectory: c.model, pixels: true)
    let loadSeconds = Date().timeIntervalSince(loadStart)
    // One tile's image tokens with random features (or pixels when the tower trains): the
    // values do not change the work.
    var random = SplitMix64(seed: 7)
    let rows = builder.imageTokensPerTile
    let tile = builder.preprocessor.tileSize
    var features: [Float] = []
    var pixels: [Float] = []
    if set.trainsEverything {
      pixels = (0..<(3 * tile * tile)).map { _ in Float(random.nextUnit() * 2 - 1) }
    } else {
      features = (0..<(rows * model.visionFeatureWidth)).map { _ in
        Float(random.nextUnit() * 2 - 1)
      }
    }
    let words = ["a", "red", "square", "next", "to", "the", "blue", "circle"]
    let answer = (0..<c.answerWords).map { words[$0 % words.count] }.joined(separator: " ")
    let sample = try builder.sample(
      question: "What is in the image?", answer: answer, imageTokens: rows, features: features,
      pixels: pixels)
    let trainer = try Trainer(
      model: model, samples: [sample],
      settings: .init(
        trainable: set, steps: c.steps + 1,
        schedule: CosineSchedule(peak: 1e-4, floor: 1e-6, warmupSteps: 0, totalSteps: c.steps + 1),
        traversal: c.traversal))
    try trainer.trainStep()
    ProductCounter.reset()
    let start = Date()
    for _ in 0..<c.steps { try trainer.trainStep() }
    let seconds = Date().timeIntervalSince(start) / Double(max(c.steps, 1))
    let flops = Double(ProductCounter.total) / Double(max(c.steps, 1))
    let gflops = flops / seconds / 1e9
    return Result(
      trainable: set.rawValue, weights: format.rawValue, tokens: sample.ids.count,
      answerTokens: sample.scoredRows.count, loadSeconds: loadSeconds, secondsPerStep: seconds,
      productGFLOP: flops / 1e9, gflops: gflops, fractionOfSgemm: gflops / sgemm,
      peakRSSBytes: peakRSS())
  }

  /// OpenBLAS sgemm (the training products' library) on 1024 × 2048 · 2048 × 2048, GFLOP/s: the
  /// best of repetitions over about a second.
  public static func measureSgemm() -> Double {
    let (m, n, k) = (1024, 2048, 2048)
    var random = SplitMix64(seed: 1)
    let a = (0..<(m * k)).map { _ in Float(random.nextUnit() - 0.5) }
    let b = (0..<(n * k)).map { _ in Float(random.nextUnit() - 0.5) }
    var c = [Float](repeating: 0, count: m * n)
    let best = bestSeconds {
      a.withUnsafeBufferPointer { ap in
        b.withUnsafeBufferPointer { bp in
          c.withUnsafeMutableBufferPointer { cp in
            Float.gemm(
              transA: false, transB: true, m: m, n: n, k: k, alpha: 1, ap.baseAddress!, lda: k,
              bp.baseAddress!, ldb: k, beta: 0, cp.baseAddress!, ldc: n)
          }
        }
      }
    }
    return 2 * Double(m * n * k) / best / 1e9
  }

  /// The process's peak resident set (getrusage's ru_maxrss, KiB on Linux), in bytes.
  static func peakRSS() -> Int {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return usage.ru_maxrss * 1024
  }
}
