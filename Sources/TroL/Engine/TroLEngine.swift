internal import Foundation
internal import Synchronization
public import Tensor
public import TrolleyBasics

/// The TroL engine for callers: load a checkpoint folder once, then answer batches of
/// (image, question) requests.
///
/// A batch is processed together: each distinct image is decoded, preprocessed and encoded once;
/// questions about the same image share the system prompt and image prefix (computed once, with
/// both traversal passes' keys and values kept); all open sequences decode in one forward per
/// step. Every request gets its own result, identical to what it would get alone.
///
/// Thread safety: `answer` may be called from any thread; calls on one engine run one at a time
/// (the engine owns one set of scratch buffers). Use several engines for parallel batches, giving
/// each `TensorThreads` a share of the cores.
public final class TroLEngine: Sendable {
  /// The loaded model (weights, towers, gate).
  public let model: TroLModel
  /// The checkpoint's tokenizer.
  public let tokenizer: any TextTokenizer
  /// The family's chat template and answer extraction.
  public let template: ChatTemplate
  /// The family's image preprocessing.
  public let preprocessor: ImagePreprocessor
  /// The format decoder matrices are held in.
  public let weightFormat: WeightFormat
  private let generator: Mutex<GeneratorBox>

  private final class GeneratorBox: @unchecked Sendable {
    let generator: Generator
    init(_ generator: Generator) { self.generator = generator }
  }

  /// Loads a checkpoint folder in the released layout.
  ///
  /// - Parameters:
  ///   - modelDirectory: a folder with config.json, model.safetensors, trol_gating.pt and the
  ///     tokenizer files (`trolley model synth` writes one).
  ///   - weights: the in-memory format of decoder matrices, embeddings and the LM head: `.f16`
  ///     (default) keeps the checkpoint's 16-bit values (repacked for the decode kernels), `.f32` is
  ///     the exact reference, `.q8` / `.q4` quantize at load.
  ///   - compute: how prefill and vision products multiply (`ComputeMode`; `.bf16` needs `.f16`
  ///     weights, `.int8` needs `.q8`).
  ///   - packedWeightsKey: with `.f16` weights, the checkpoint's content hash: 16-bit weights are
  ///     then mapped from the packed-weights cache in the folder when it is valid for that hash
  ///     (else repacked and the cache rewritten; see `PackedWeightCache`). nil: always repack.
  ///     Not used when a PEFT adapter is merged at load (the hash does not cover it).
  ///   - packedWeightsOutcome: told what the cache did.
  /// - Throws: `TroLError` naming the missing or malformed file or tensor.
  public static func load(
    modelDirectory: String, weights: WeightFormat = .f16, compute: ComputeMode = .f32,
    packedWeightsKey: String? = nil,
    packedWeightsOutcome: (PackedWeightCache.Outcome) -> Void = { _ in }
  ) throws -> TroLEngine {
    if let required = compute.requiredWeights, required != weights {
      throw TroLError(
        .invalidRequest,
        "--compute \(compute.rawValue) needs --weights \(required.rawValue), not \(weights.rawValue)"
      )
    }
    let directory = try ModelDirectory(path: modelDirectory)
    // config.json was decoded and validated once, by ModelDirectory; everything below reads it.
    let config = directory.config
    let tokenizer = try TokenizerLoader.load(directory)
    let template = config.template
    guard let imageTokenID = tokenizer.tokenID(template.imageToken) else {
      throw TroLError(
        .invalidTokenizer, "\(modelDirectory): the tokenizer has no \(template.imageToken) token")
    }
    let gate = try directory.gate()
    let file = directory.weights
    // A PEFT adapter beside the checkpoint (trolley train export --adapter) is merged at load.
    let adapter = try PEFTAdapter.load(directory: modelDirectory)
    let cache =
      weights == .f16 && adapter == nil
      ? packedWeightsKey.map { PackedWeightCache(directory: modelDirectory, contentHash: $0) } : nil
    let loader = WeightLoader(
      lookup: { key in
        let raw = try file.tensor(key)
        return try adapter?.applied(to: raw, key: key) ?? raw
      }, format: weights, compute: compute, packedWeights: cache)
    let model = try TroLModel(
      config: config, loader: loader, gate: gate, imageTokenID: imageTokenID)
    if let cache { packedWeightsOutcome(cache.finish()) }
    let preprocessor = ImagePreprocessor(for: config)
    return TroLEngine(
      model: model, tokenizer: tokenizer, template: template, preprocessor: preprocessor,
      weightFormat: weights)
  }

  /// Assembles an engine from loaded parts (tests, benchmarks).
  public init(
    model: TroLModel, tokenizer: any TextTokenizer, template: ChatTemplate,
    preprocessor: ImagePreprocessor,
    weightFormat: WeightFormat
  ) {
    self.model = model
    self.tokenizer = tokenizer
    self.template = template
    self.preprocessor = preprocessor
    self.weightFormat = weightFormat
    generator = Mutex(GeneratorBox(Generator(model: model)))
  }

  /// The ids that end an answer by default: `</s>`, plus the turn-end token for greedy and sampled
  /// answers (the answer text is the same, and it saves the tokens after it). Beam search keeps the
  /// reference's single stop token so its scores stay those of Hugging Face.
  func defaultStopTokens(for options: GenerationOptions) -> [Int] {
    let eos = tokenizer.eosTokenID ?? model.eosTokenID
    if case .beamSearch = options.strategy { return [eos] }
    guard let turnEnd = tokenizer.tokenID(template.turnEndToken) else { return [eos] }
    return [eos, turnEnd]
  }

  /// Answers one request.
  ///
  /// - Throws: `TroLError` (bad image, bad options, prompt too long...).
  public func answer(_ request: AnswerRequest) throws -> AnswerResult {
    try answer(requests: [request])[0].get()
  }

  /// Answers a batch of requests; results are in request order, each a success or its own error
  /// (a corrupt image fails only its request). A request whose `cancellation` flag gets set ends
  /// early with `TroLError.Code.cancelled` (checked before its image is encoded, between prefill
  /// layers and before each decode step); the other requests' results do not change.
  public func answer(requests: [AnswerRequest]) -> [Result<AnswerResult, TroLError>] {
    let start = Date()
    var results = [Result<AnswerResult, TroLError>?](repeating: nil, count: requests.count)
    // 1. Images: each distinct one decoded, preprocessed and encoded once.
    struct EncodedImage {
      var features: ImageFeatures
      var preprocessingSeconds: Double
      var visionSeconds: Double
    }
    var images: [AnswerRequest.Image: Result<EncodedImage, TroLError>] = [:]
    func isCancelled(_ request: AnswerRequest) -> Bool {
      request.cancellation?.isCancelled == true
    }
    for request in requests {
      guard let image = request.image, images[image] == nil, !isCancelled(request) else { continue }
      images[image] = Result {
        let t0 = Date()
        for other in requests where other.image == image { other.progress?.enter(.preprocessing) }
        let decoded = try decode(image)
        let pixels = preprocessor.pixels(for: decoded)
        let t1 = Date()
        for other in requests where other.image == image { other.progress?.enter(.vision) }
        let values = try pixels.pixels.withUnsafeBufferPointer {
          try model.imageFeatures(pixels: $0)
        }
        let t2 = Date()
        return EncodedImage(
          features: ImageFeatures(values: values, rows: values.count / model.shape.hidden),
          preprocessingSeconds: t1.timeIntervalSince(t0), visionSeconds: t2.timeIntervalSince(t1))
      }.mapError { $0 as? TroLError ?? TroLError(.invalidImage, "\($0)") }
    }
    // 2. Prompts.
    var prompts: [GenerationPrompt] = []
    var owners: [Int] = []
    for (i, request) in requests.enumerated() {
      if isCancelled(request) {
        results[i] = .failure(Self.cancelled(after: 0))
        continue
      }
      do {
        try request.options.validate()
        var encoded: EncodedImage?
        if let image = request.image { encoded = try images[image]!.get() }
        let text = try template.prompt(
          question: request.question, imageTokens: encoded?.features.rows)
        let ids = tokenizer.encode(text)
        try Generator.checkLength(
          promptTokens: ids.count, options: request.options,
          maxPositions: model.decoder.maxPositions)
        var options = request.options
        if options.stopTokenIDs == nil { options.stopTokenIDs = defaultStopTokens(for: options) }
        prompts.append(
          GenerationPrompt(
            tokens: ids, image: encoded?.features, options: options,
            cancellation: request.cancellation, progress: request.progress))
        owners.append(i)
      } catch {
        results[i] = .failure(error as? TroLError ?? TroLError(.invalidRequest, "\(error)"))
      }
    }
    // 3. Generation for every valid prompt together.
    for prompt in prompts { prompt.progress?.enter(.prefill) }
    let outputs: [GenerationOutput]
    do {
      outputs = try generator.withLock { try $0.generator.generate(prompts) }
    } catch {
      let failure = error as? TroLError ?? TroLError(.invalidRequest, "\(error)")
      for i in owners { results[i] = .failure(failure) }
      return results.map { $0! }
    }
    let total = Date().timeIntervalSince(start)
    for (k, output) in outputs.enumerated() {
      let i = owners[k]
      let request = requests[i]
      if output.finishReason == .cancelled {
        results[i] = .failure(Self.cancelled(after: output.tokens.count))
        continue
      }
      var answerIDs = output.tokens
      if output.finishReason == .stopToken { answerIDs.removeLast() }
      let answer = template.extractAnswer(
        from: tokenizer.decode(answerIDs, skipSpecialTokens: false))
      let encoded = request.image.flatMap { try? images[$0]?.get() }
      results[i] = .success(
        AnswerResult(
          answer: answer, promptTokenIDs: prompts[k].tokens, tokenIDs: output.tokens,
          finishReason: output.finishReason.rawValue, beamScore: output.beamScore,
          timings: AnswerTimings(
            imagePreprocessingSeconds: encoded?.preprocessingSeconds ?? 0,
            visionSeconds: encoded?.visionSeconds ?? 0,
            prefillSeconds: output.prefillSeconds, prefillTokens: output.prefilledTokens,
            decodeSeconds: output.decodeSeconds, decodeTokens: output.tokens.count,
            totalSeconds: total)))
    }
    return results.map { $0! }
  }

  private static func cancelled(after tokens: Int) -> TroLError {
    TroLError(.cancelled, "the request was cancelled after \(tokens) generated tokens")
  }

  private func decode(_ image: AnswerRequest.Image) throws -> RGBImage {
    switch image {
    case .decoded(let decoded):
      return decoded
    case .encoded(let bytes):
      return try ImageDecoder().decode(bytes)
    case .file(let path):
      // Checks the file's size before reading it, so an oversized file is never loaded.
      return try ImageDecoder().decode(contentsOfFile: path)
    }
  }
}
