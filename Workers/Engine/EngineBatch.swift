import Foundation
import Tensor
public import TroL
public import TrolleyBasics
public import TrolleyJobContracts

/// Runs one engine batch for a group of claimed jobs: fetches their images concurrently, answers
/// every question in one `TroLEngine` call on a thread of its own, and classifies each failure.
///
/// The engine is synchronous and saturates the CPU; running it on the cooperative pool (two
/// threads on this machine) would starve heartbeats and acknowledgements, so it gets a thread.
public struct EngineBatch: Sendable {
  /// One job's input: where its image is, and the engine request that gets the image once it
  /// is fetched.
  public struct Item: Sendable {
    /// A local path, `file://` or `http(s)://` URL.
    public var image: String
    /// The question (or caption prompt), options, cancellation flag and token counter; its
    /// `image` is nil until `run` fetched the source.
    public var request: AnswerRequest

    /// - Parameters:
    ///   - cancellation: stops this item early (its job was cancelled or timed out); nil: never.
    ///   - progress: counts the item's generated tokens as they come, if given.
    public init(
      image: String, question: String, options: GenerationOptions,
      cancellation: CancellationFlag? = nil, progress: GenerationProgress? = nil
    ) {
      self.image = image
      request = AnswerRequest(
        image: nil, question: question, options: options, cancellation: cancellation,
        progress: progress)
    }
  }

  public let engine: TroLEngine
  public let fetcher: ImageFetcher
  /// A name for the model, recorded in each result (the checkpoint folder's name).
  public let modelName: String
  /// The checkpoint's identity (hub id and revision, or content hash), recorded in each
  /// result's provenance.
  public let identity: ModelIdentity
  /// Where each batch's decode rate goes (`trolley_engine_tokens_per_second`), if anywhere.
  public let metrics: WorkerMetrics?

  /// - Parameter identity: From `ModelIdentity.identify(directory:)`; nil records only the name.
  public init(
    engine: TroLEngine, fetcher: ImageFetcher, modelName: String, identity: ModelIdentity? = nil,
    metrics: WorkerMetrics? = nil
  ) {
    self.engine = engine
    self.fetcher = fetcher
    self.modelName = modelName
    self.identity = identity ?? ModelIdentity(name: modelName)
    self.metrics = metrics
  }

  /// The provenance of a result produced with these options.
  public func provenance(_ options: GenerationOptions) -> JobJSON {
    ResultProvenance.json(model: identity, weights: engine.weightFormat.rawValue, options: options)
  }

  /// One result per item, in order; a bad image fails only its own item.
  public func run(_ items: [Item]) async -> [Result<AnswerResult, JobFailure>] {
    var outcomes = [Result<AnswerResult, JobFailure>?](repeating: nil, count: items.count)
    // Distinct sources are fetched once, concurrently (several questions often share an image).
    let sources = Array(Set(items.map(\.image)))
    var fetched: [String: Result<[UInt8], JobFailure>] = [:]
    await withTaskGroup(of: (String, Result<[UInt8], JobFailure>).self) { group in
      for source in sources {
        group.addTask {
          do {
            return (source, .success(try await fetcher.fetch(source)))
          } catch let error as ImageFetchError {
            return (source, .failure(Self.failure(for: error)))
          } catch {
            return (source, .failure(JobFailure(.transient, "fetching \(source) failed: \(error)")))
          }
        }
      }
      for await (source, result) in group { fetched[source] = result }
    }
    var requests: [AnswerRequest] = []
    var owners: [Int] = []
    for (index, item) in items.enumerated() {
      switch fetched[item.image] {
      case .success(let bytes):
        var request = item.request
        request.image = .encoded(bytes)
        requests.append(request)
        owners.append(index)
      case .failure(let failure):
        outcomes[index] = .failure(failure)
      case nil:
        outcomes[index] = .failure(JobFailure(.transient, "image \(item.image) was not fetched"))
      }
    }
    if !requests.isEmpty {
      let batchRequests = requests
      let answers = await Self.onOwnThread { [engine] in engine.answer(requests: batchRequests) }
      if let metrics, let rate = Self.decodeRate(answers) { metrics.setTokensPerSecond(rate) }
      for (k, index) in owners.enumerated() {
        outcomes[index] = answers[k].mapError { Self.failure(for: $0, image: items[index].image) }
      }
    }
    return outcomes.map { $0 ?? .failure(JobFailure(.transient, "the engine returned no result")) }
  }

  /// Tokens the batch decoded per second of its decode phase: the sequences step together, so
  /// the phase lasts as long as the longest answer's. Each answer's first token comes from the
  /// prefill and is not counted. Nil when nothing was decoded.
  static func decodeRate(_ answers: [Result<AnswerResult, TroLError>]) -> Double? {
    var tokens = 0
    var seconds = 0.0
    for case .success(let answer) in answers {
      tokens += max(answer.timings.decodeTokens - 1, 0)
      seconds = max(seconds, answer.timings.decodeSeconds)
    }
    return tokens > 0 && seconds > 0 ? Double(tokens) / seconds : nil
  }

  /// Bad input is permanent (retrying cannot fix a corrupt image); network trouble is not.
  static func failure(for error: ImageFetchError) -> JobFailure {
    JobFailure(error.isRetryable ? .transient : .permanent, error.message)
  }

  /// Image problems are the job's input and permanent; engine trouble may pass (transient).
  static func failure(for error: TroLError, image: String) -> JobFailure {
    switch error.code {
    case .invalidImage, .imageTooLarge, .unsupportedImageFormat:
      return JobFailure(.permanent, "image \(image): \(error.message)")
    case .invalidRequest:
      return JobFailure(.invalidPayload, error.message)
    case .cancelled:
      // The job was asked to stop; the worker decides what that means (cancel, retry, hand back).
      return JobFailure(.cancelled, "stopped: \(error.message)")
    default:
      return JobFailure(.transient, "engine error: \(error.message)")
    }
  }

  private static func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
      let thread = Thread { continuation.resume(returning: body()) }
      // Deep model code with large stack frames; 8 MiB like a main thread.
      thread.stackSize = 8 << 20
      thread.name = "trolley-engine"
      thread.start()
    }
  }
}
