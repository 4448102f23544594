import Foundation
public import Tensor
public import TroL
import TroLSynthesis
import TrolleyBasics
import TrolleyJobContracts
import TrolleyWorkers

/// `trolley bench worker`: how many images per hour a worker answers at each engine batch size.
///
/// It drives the worker's own engine path — `AnswerJob.run(batch:)`, hence `EngineBatch` (image
/// files read and decoded, one `TroLEngine.answer` call per batch on a thread of its own) — over
/// synthetic PNG files, in consecutive batches of the given size, as a worker with
/// `--batch-size B` claims and runs them. The queue is left out: its cost per job is
/// microseconds (see `trolley bench queue`) against seconds of engine time.
///
/// Every batch size answers the same images with the same question, so their answers must agree;
/// the report says whether they do.
public struct WorkerBenchmark: Sendable {
  public struct Configuration: Sendable {
    /// Distinct images answered per batch size. Default 16.
    public var images: Int = 16
    /// Engine batch sizes to measure. Default 1 and 4.
    public var batchSizes: [Int] = [1, 4]
    /// The question asked about every image.
    public var question: String = "What is in this image?"
    /// Most new tokens per answer (the worker's `--max-new-tokens`). Default 64.
    public var maxNewTokens: Int = 64
    /// The worker's `--traversal`.
    public var traversal: TraversalMode = .all
    /// Questions asked about each image (the question, then numbered variants), enqueued
    /// question by question (all images' first question, then their second...) and cut into
    /// batches as the worker does (`JobChunks`: one image's questions together).
    public var questionsPerImage: Int = 1
    /// Seed of the synthetic images.
    public var seed: UInt64 = 0

    public init() {}
  }

  /// One batch size's figures.
  public struct Run: Sendable, Encodable, Hashable {
    public var batchSize: Int
    public var images: Int
    /// Wall time for all the images.
    public var seconds: Double
    /// Generated tokens over all answers.
    public var generatedTokens: Int
    /// Whether every answer equals the first batch size's answer for the same image.
    public var sameAnswersAsFirst: Bool

    public var imagesPerHour: Double { seconds > 0 ? Double(images) / seconds * 3600 : 0 }
    public var secondsPerImage: Double { images > 0 ? seconds / Double(images) : 0 }
    /// Generated tokens per wall second (prefill, vision and image decoding included).
    public var tokensPerSecond: Double { seconds > 0 ? Double(generatedTokens) / seconds : 0 }

    enum CodingKeys: String, SnakeCaseCodingKey {
      case batchSize, images, seconds, generatedTokens, sameAnswersAsFirst, imagesPerHour,
        secondsPerImage, tokensPerSecond
    }

    public func encode(to encoder: any Encoder) throws {
      var container = encoder.container(keyedBy: CodingKeys.self)
      try container.encode(batchSize, forKey: .batchSize)
      try container.encode(images, forKey: .images)
      try container.encode(Self.round(seconds, 3), forKey: .seconds)
      try container.encode(generatedTokens, forKey: .generatedTokens)
      try container.encode(sameAnswersAsFirst, forKey: .sameAnswersAsFirst)
      try container.encode(imagesPerHour.rounded(), forKey: .imagesPerHour)
      try container.encode(Self.round(secondsPerImage, 4), forKey: .secondsPerImage)
      try container.encode(Self.round(tokensPerSecond, 1), forKey: .tokensPerSecond)
    }

    private static func round(_ value: Double, _ digits: Int) -> Double {
      let scale = pow(10, Double(digits))
      return (value * scale).rounded() / scale
    }
  }

  /// Everything one run measured.
  public struct Report: Sendable, Encodable {
    public var model: String
    public var weights: String
    public var question: String
    public var maxNewTokens: Int
    /// The traversal the jobs ran with.
    public var traversal: String
    /// The engine's compute mode, when the caller records it (the engine does not keep it).
    public var compute: String?
    public var questionsPerImage: Int
    /// Engine threads, when the caller records them.
    public var threads: Int?
    /// The machine's peaks measured in the same run, when the caller measures them.
    public var peak: MachinePeak?
    public var runs: [Run]

    enum CodingKeys: String, SnakeCaseCodingKey {
      case model, weights, compute, traversal, questionsPerImage, question, runs, threads, peak,
        maxNewTokens
    }
  }

  /// A benchmark failure: an image could not be written, or a job failed.
  public struct Failure: Error, CustomStringConvertible {
    public let description: String
  }

  public let engine: TroLEngine
  public let modelName: String
  public let configuration: Configuration

  public init(engine: TroLEngine, modelName: String, configuration: Configuration) {
    precondition(configuration.images >= 1, "WorkerBenchmark: at least one image")
    precondition(
      !configuration.batchSizes.isEmpty && configuration.batchSizes.allSatisfy { $0 >= 1 },
      "WorkerBenchmark: batch sizes must be positive")
    self.engine = engine
    self.modelName = modelName
    self.configuration = configuration
  }

  /// Writes the images to a scratch folder (removed afterwards), warms the engine up with one
  /// untimed answer, then measures each batch size in turn; `progress` gets each finished `Run`,
  /// `step` (batch size, images done, images) each finished engine batch (large models take
  /// minutes per batch).
  /// - Throws: `Failure` naming the image or the job that failed.
  public func run(
    progress: @Sendable (Run) -> Void = { _ in },
    step: @Sendable (_ batchSize: Int, _ done: Int, _ total: Int) -> Void = { _, _, _ in }
  ) async throws -> Report {
    let folder = NSTemporaryDirectory() + "trolley-bench-worker-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    var paths: [String] = []
    for index in 0..<configuration.images {
      let path = folder + "/image-\(index).png"
      let bytes = PNGEncoder.encode(SampleImages.make(index: index, seed: configuration.seed))
      guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
        throw Failure(description: "cannot write the benchmark image \(path)")
      }
      paths.append(path)
    }
    let batch = EngineBatch(
      engine: engine, fetcher: ImageFetcher(policy: .unrestricted), modelName: modelName)
    // Maps the weights and fills the scratch buffers, so the first batch size pays no extra.
    _ = try await answers(
      for: Array(paths.prefix(1)), batchSize: 1, batch: batch, step: { _, _, _ in })
    var runs: [Run] = []
    var reference: [String]?
    for batchSize in configuration.batchSizes {
      let clock = ContinuousClock()
      let start = clock.now
      let results = try await answers(
        for: paths, batchSize: batchSize, batch: batch, step: step)
      let elapsed = start.duration(to: clock.now)
      let texts = results.map(\.answer)
      let run = Run(
        batchSize: batchSize, images: paths.count,
        seconds: elapsed.seconds,
        generatedTokens: results.reduce(0) { $0 + $1.tokens },
        sameAnswersAsFirst: reference.map { $0 == texts } ?? true)
      if reference == nil { reference = texts }
      runs.append(run)
      progress(run)
    }
    return Report(
      model: modelName, weights: "\(engine.weightFormat)", question: configuration.question,
      maxNewTokens: configuration.maxNewTokens, traversal: configuration.traversal.rawValue,
      questionsPerImage: configuration.questionsPerImage, runs: runs)
  }

  /// Answers every image, `batchSize` jobs per engine batch, as a worker with that batch size.
  private func answers(
    for paths: [String], batchSize: Int, batch: EngineBatch,
    step: @Sendable (Int, Int, Int) -> Void
  ) async throws
    -> [AnswerJob.Result]
  {
    let kind = AnswerJob(
      settings: EngineJobSettings(
        batch: batch, batchSize: batchSize, maxNewTokens: configuration.maxNewTokens,
        traversal: TraversalPolicy(mode: configuration.traversal)))
    // Enqueue order: question by question over all images.
    var queued: [AnswerJob.Payload] = []
    for q in 0..<configuration.questionsPerImage {
      let question = q == 0 ? configuration.question : "\(configuration.question) (\(q + 1))"
      for path in paths { queued.append(AnswerJob.Payload(image: path, question: question)) }
    }
    var results = [AnswerJob.Result?](repeating: nil, count: queued.count)
    var done = 0
    // As the worker cuts what it claimed: jobs on one image in one batch.
    for chunk in JobChunks.plan(keys: queued.map { kind.groupKey($0) }, size: batchSize) {
      let jobs = chunk.map { index in
        (
          payload: queued[index],
          context: JobContext(jobID: Int64(index), queue: "bench", attempt: 1, batchID: nil)
        )
      }
      for (index, outcome) in zip(chunk, await kind.run(batch: jobs)) {
        do {
          results[index] = try outcome.get()
        } catch {
          throw Failure(description: "answering \(queued[index].image) failed: \(error)")
        }
      }
      done += chunk.count
      step(batchSize, done / configuration.questionsPerImage, paths.count)
    }
    return results.compactMap { $0 }
  }
}

extension WorkerBenchmark {
  /// The header of the text table `trolley bench worker` prints.
  public static let tableHeader = "batch  images/hour  s/image  tokens  tokens/s  answers"
}

extension WorkerBenchmark.Run {
  /// This run as a row of the text table.
  public var tableLine: String {
    func pad(_ text: String, _ width: Int) -> String {
      String(repeating: " ", count: max(0, width - text.count)) + text
    }
    return pad("\(batchSize)", 5) + pad(String(format: "%.0f", imagesPerHour), 13)
      + pad(String(format: "%.3f", secondsPerImage), 9) + pad("\(generatedTokens)", 8)
      + pad(String(format: "%.1f", tokensPerSecond), 10) + "  "
      + (sameAnswersAsFirst ? "same as first" : "DIFFERENT from the first batch size")
  }
}
