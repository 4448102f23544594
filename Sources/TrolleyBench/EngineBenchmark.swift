internal import Foundation
public import Tensor
public import TroL

/// Model-level timings for `trolley bench engine --model DIR`: vision, prefill throughput next to
/// the sgemm peak, decode throughput next to the memory-bandwidth bound, batch-8 decode, and the
/// time prefix sharing saves for several questions on one image.
public enum EngineBenchmark {
  public struct Configuration: Sendable {
    /// Weight formats to load and measure, in order.
    public var formats: [WeightFormat] = [.f32, .f16, .q8, .q4]
    /// Decode batch sizes (sequences decoding together).
    public var batchSizes: [Int] = [1, 8]
    /// Tokens each decode measurement generates per sequence.
    public var decodeTokens: Int = 16
    /// Questions on one image for the prefix-sharing measurement (0 skips it).
    public var sharedQuestions: Int = 4
    /// Measure the image prefill (vision + traversed prompt) for each format, not only the first.
    public var prefillEveryFormat = false
    /// Measure the image prefill at all (false: decode only).
    public var imagePrefill = true
    /// Traversal modes the image prefill and the prefix-sharing timing run with, one row each.
    public var traversals: [TraversalMode] = [.all]

    public init() {}
  }

  /// The machine's measured peaks, taken in the same run.
  public struct Machine: Codable, Sendable {
    /// f32 sgemm on a prefill-sized product (512 × 2048 · 2048 × 2048), GFLOP/s.
    public var sgemmGFLOPS: Double
    /// Streaming read bandwidth, GB/s.
    public var readGBPerSecond: Double
    public var threads: Int
  }

  public struct DecodeResult: Codable, Sendable {
    public var batch: Int
    public var tokensPerSecond: Double
    /// Weight bytes read per step divided by the measured bandwidth, as tokens/s for this batch.
    public var bandwidthBoundTokensPerSecond: Double
    public var fractionOfBound: Double
  }

  /// The image prompt's prefill under one traversal mode.
  public struct PrefillResult: Codable, Sendable {
    /// `all`, `question` or `off`.
    public var traversal: String
    public var tokens: Int
    /// Prompt positions that ran every propagation (all of them for `all`, none for `off`).
    public var traversedTokens: Int
    public var seconds: Double
    public var tokensPerSecond: Double
    /// Matrix FLOPs of the prefill / s: every propagation through the base matrices, plus the
    /// PLoRA adapters for image tokens; attention products and the last row's LM head excluded.
    public var gflops: Double
    public var fractionOfPeak: Double
    /// Seconds for the questions answered separately and with the shared prefix (one token each).
    public var separateQuestionsSeconds: Double?
    public var sharedPrefixSeconds: Double?
  }

  public struct FormatResult: Codable, Sendable {
    public var format: String
    public var loadSeconds: Double
    /// Bytes of decoder weights streamed per decode step (layers + LM head).
    public var weightBytesPerStep: Int
    public var visionSeconds: Double?
    /// One row per traversal mode measured.
    public var prefill: [PrefillResult]
    public var decode: [DecodeResult]
  }

  public struct Report: Codable, Sendable {
    public var machine: Machine
    public var results: [FormatResult]
  }

  /// Runs the benchmark on a checkpoint folder.
  ///
  /// - Parameter progress: receives each format's result as soon as it is measured.
  /// - Throws: loading errors.
  public static func run(
    modelDirectory: String, configuration: Configuration,
    progress: (FormatResult) -> Void = { _ in }
  ) throws -> Report {
    let machine = measureMachine()
    var results: [FormatResult] = []
    for (index, format) in configuration.formats.enumerated() {
      let loadStart = Date()
      let engine = try TroLEngine.load(modelDirectory: modelDirectory, weights: format)
      let loadSeconds = Date().timeIntervalSince(loadStart)
      let model = engine.model
      let bytes = model.streamedBytesPerToken
      var result = FormatResult(
        format: format.rawValue, loadSeconds: loadSeconds, weightBytesPerStep: bytes, prefill: [],
        decode: [])
      let generator = Generator(model: model)
      // Image prompt: vision, then the traversed prefill (one new token).
      let image = syntheticImage()
      if configuration.imagePrefill && (index == 0 || configuration.prefillEveryFormat) {
        let t0 = Date()
        let pixels = engine.preprocessor.pixels(for: image)
        let values = try pixels.pixels.withUnsafeBufferPointer {
          try model.imageFeatures(pixels: $0)
        }
        result.visionSeconds = Date().timeIntervalSince(t0)
        let features = ImageFeatures(values: values, rows: values.count / model.shape.hidden)
        let ids = try engine.promptIDs(
          question: "Describe the image in detail.", imageTokens: features.rows)
        for mode in configuration.traversals {
          result.prefill.append(
            try measurePrefill(
              engine: engine, generator: generator, ids: ids, features: features, mode: mode,
              sharedQuestions: configuration.sharedQuestions, machine: machine))
        }
      }
      // Decode: short text prompts so the step time is the weight traffic, at each batch size.
      for batch in configuration.batchSizes {
        let prompts = try (0..<batch).map { b in
          GenerationPrompt(
            tokens: try engine.promptIDs(
              question: "Tell me a story number \(b).", imageTokens: nil), image: nil,
            options: GenerationOptions(
              maxNewTokens: configuration.decodeTokens + 1, stopTokenIDs: [-1]))
        }
        let outputs = try generator.generate(prompts)
        let seconds = outputs.map(\.decodeSeconds).max() ?? 0
        let tokens = Double(batch * configuration.decodeTokens)
        let perSecond = seconds > 0 ? tokens / seconds : 0
        let bound = machine.readGBPerSecond * 1e9 / Double(bytes) * Double(batch)
        result.decode.append(
          DecodeResult(
            batch: batch, tokensPerSecond: perSecond, bandwidthBoundTokensPerSecond: bound,
            fractionOfBound: perSecond / bound))
      }
      progress(result)
      results.append(result)
    }
    return Report(machine: machine, results: results)
  }

  /// The image prompt's prefill (one new token) under `mode`, then `sharedQuestions` questions on
  /// the image answered separately and with the shared prefix.
  static func measurePrefill(
    engine: TroLEngine, generator: Generator, ids: [Int], features: ImageFeatures,
    mode: TraversalMode, sharedQuestions: Int, machine: Machine
  ) throws -> PrefillResult {
    let model = engine.model
    let policy = TraversalPolicy(mode: mode)
    let options = GenerationOptions(maxNewTokens: 1, traversal: policy)
    let output = try generator.generate([
      GenerationPrompt(tokens: ids, image: features, options: options)
    ])[0]
    // Positions from the traversal start run every pass, the rest once; image tokens also go
    // through the PLoRA adapters on each of their passes (attention's products are not counted).
    let start = policy.traversalStart(of: ids, imageTokenID: model.imageTokenID)
    let passes = policy.propagations
    let traversed = passes > 1 ? ids.count - start : 0
    let rows = Double(ids.count + (passes - 1) * traversed)
    let imagePasses = Double(start > 0 ? 1 : passes)
    let flops =
      2
      * (Double(model.matrixParametersPerToken) * rows
        + Double(model.loraParametersPerImageToken) * Double(features.rows) * imagePasses)
    let gflops = flops / output.prefillSeconds / 1e9
    var result = PrefillResult(
      traversal: mode.rawValue, tokens: ids.count, traversedTokens: traversed,
      seconds: output.prefillSeconds, tokensPerSecond: Double(ids.count) / output.prefillSeconds,
      gflops: gflops, fractionOfPeak: gflops / machine.sgemmGFLOPS)
    if sharedQuestions > 1 {
      let prompts = try (0..<sharedQuestions).map { q in
        GenerationPrompt(
          tokens: try engine.promptIDs(
            question: "Question \(q): what is in the image?", imageTokens: features.rows),
          image: features, options: options)
      }
      generator.sharePrefixes = false
      var start = Date()
      _ = try generator.generate(prompts)
      result.separateQuestionsSeconds = Date().timeIntervalSince(start)
      generator.sharePrefixes = true
      start = Date()
      _ = try generator.generate(prompts)
      result.sharedPrefixSeconds = Date().timeIntervalSince(start)
    }
    return result
  }

  static func measureMachine() -> Machine {
    let peak = MachinePeak.measure()
    let (m, n, k) = (512, 2048, 2048)
    var random = SplitMix64(seed: 1)
    let weight = F32Weight(
      outFeatures: n, inFeatures: k,
      values: (0..<(n * k)).map { _ in Float(random.next() >> 40) / Float(1 << 24) - 0.5 })
    let x = [Float](repeating: 0.25, count: m * k)
    var y = [Float](repeating: 0, count: m * n)
    let scratch = MatmulScratch()
    var best = Double.infinity
    let start = Date()
    while Date().timeIntervalSince(start) < 1.0 {
      let t = Date()
      x.withUnsafeBufferPointer { xp in
        y.withUnsafeMutableBufferPointer { yp in
          weight.multiply(
            xp.baseAddress!, rows: m, into: yp.baseAddress!, accumulate: false, scratch: scratch)
        }
      }
      best = min(best, Date().timeIntervalSince(t))
    }
    return Machine(
      sgemmGFLOPS: 2 * Double(m * n * k) / best / 1e9, readGBPerSecond: peak.readGBPerSecond,
      threads: TensorThreads.count)
  }

  /// A 640×480 gradient with shapes, so the vision tower sees a plausible image.
  static func syntheticImage() -> RGBImage {
    let width = 640
    let height = 480
    var pixels = [UInt8](repeating: 0, count: width * height * 3)
    for y in 0..<height {
      for x in 0..<width {
        let o = (y * width + x) * 3
        let inDisc = (x - 320) * (x - 320) + (y - 240) * (y - 240) < 100 * 100
        pixels[o] = UInt8(x * 255 / width)
        pixels[o + 1] = inDisc ? 220 : UInt8(y * 255 / height)
        pixels[o + 2] = inDisc ? 30 : 128
      }
    }
    return RGBImage(width: width, height: height, pixels: pixels)
  }
}

extension TroLEngine {
  /// The prompt ids for a question, as `answer` builds them.
  func promptIDs(question: String, imageTokens: Int?) throws -> [Int] {
    tokenizer.encode(try template.prompt(question: question, imageTokens: imageTokens))
  }
}

extension EngineBenchmark.FormatResult {
  /// The lines of `trolley bench engine --model` text output: the format's load, vision and
  /// decode, then one line per traversal mode's prefill.
  public var line: String {
    var line = String(format: "%-4@ load %6.1f s", format, loadSeconds)
    if let vision = visionSeconds {
      line += String(format: " | vision %6.2f s", vision)
    }
    for d in decode {
      line += String(
        format: " | decode b%d %6.2f tok/s (bound %6.2f, %3.0f%%)", d.batch, d.tokensPerSecond,
        d.bandwidthBoundTokensPerSecond, d.fractionOfBound * 100)
    }
    for p in prefill {
      line += String(
        format:
          "\n     traversal %-8@ | prefill %d tok (%d traversed) %6.2f s %7.1f tok/s %6.1f GFLOPS (%3.0f%% of sgemm)",
        p.traversal, p.tokens, p.traversedTokens, p.seconds, p.tokensPerSecond, p.gflops,
        p.fractionOfPeak * 100)
      if let separate = p.separateQuestionsSeconds, let shared = p.sharedPrefixSeconds {
        line += String(
          format: " | questions %6.1f s separate, %6.1f s shared", separate, shared)
      }
    }
    return line
  }
}

extension EngineBenchmark.Machine {
  /// The measured peaks as one line.
  public var line: String {
    String(
      format: "machine: sgemm %.1f GFLOPS, read %.1f GB/s, %d threads", sgemmGFLOPS,
      readGBPerSecond, threads)
  }
}
