import Datasets
import Foundation
public import JobQueue
public import Logging
public import Postgres
import ServiceLifecycle
public import Tensor
public import TroL
import UnixSignals

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A worker process as `trolley worker` runs it: the model and engine settings (with `--model`),
/// the worker loop, the queue's maintenance services, the metrics endpoint, and the signal ladder
/// (SIGTERM or a first Ctrl-C: finish or hand back within the grace period; a second Ctrl-C: hand
/// everything back and exit 130). The command maps flags to a `Configuration` and calls `run()`.
public struct WorkerProcess: Sendable {
  public struct Configuration: Sendable {
    /// The queue's database.
    public var database: PostgresConfiguration
    /// The kinds to run, by name (`AllKinds`).
    public var kinds: [String]
    /// A TroL checkpoint folder; needed for the `trol.*` kinds.
    public var model: String?
    /// The in-memory weight format.
    public var weights: WeightFormat = .f16
    /// How prefill and vision products multiply (`--compute`).
    public var compute: ComputeMode = .f32
    /// With f16 weights: map the packed 16-bit weights from `.trolley-packed-f16.bin` beside the
    /// checkpoint (written at the first load, keyed by the weights' content hash).
    public var packedWeightsCache: Bool = true
    /// Most `trol.*` jobs answered together in one engine batch.
    public var batchSize: Int = 1
    /// Engine threads (nil: the Tensor default, `TROLLEY_THREADS` or the physical cores).
    public var threads: Int?
    /// Most new tokens per answer when a job does not say.
    public var maxNewTokens: Int = 256
    /// The prompt for `trol.caption` jobs without one.
    public var captionPrompt: String = EngineJobSettings.defaultCaptionPrompt
    /// Where layers are traversed for every `trol.*` job (nil: the model's default, `off` for a
    /// model trained without traversal, else `all`).
    public var traversal: TraversalMode?
    /// How long an image download may receive nothing before it fails.
    public var fetchStallTimeout: Duration = .seconds(15)
    /// The loop's settings. With a model, its concurrency is at least `batchSize`.
    public var loop: WorkerConfiguration
    /// Run the queue's maintenance services (scheduler, rescuer, sweeper, counters, retention).
    public var maintenance = true
    /// How often one worker of the fleet rebuilds the hot indexes (nil: never).
    public var reindexInterval: Duration? = .seconds(86_400)
    /// Serve Prometheus metrics on this port.
    public var metricsPort: UInt16?
    /// The IPv4 address metrics are served on. Default loopback: this host only.
    public var metricsAddress = "127.0.0.1"
    /// How long succeeded jobs (results) are kept; nil (the default): for ever.
    public var retainSucceeded: Duration?
    /// Folders jobs may read local images from (none: http(s) images only).
    public var imageRoots: [String] = []
    /// Let jobs fetch images from private, loopback and link-local addresses.
    public var allowPrivateURLs = false

    public init(database: PostgresConfiguration, kinds: [String], loop: WorkerConfiguration) {
      self.database = database
      self.kinds = kinds
      self.loop = loop
    }
  }

  public let configuration: Configuration
  let logger: Logger

  public init(configuration: Configuration, logger: Logger = Logger(label: "trolley.worker")) {
    self.configuration = configuration
    self.logger = logger
  }

  /// Runs until the loop ends (SIGTERM, Ctrl-C, or `exitWhenIdle`); a second Ctrl-C exits the
  /// process with status 130.
  public func run() async throws {
    // A closed log pipe must not kill the worker mid-job (SIGPIPE's default action).
    signal(SIGPIPE, SIG_IGN)
    let client = PostgresClient(configuration: configuration.database, maximumConnections: 6)
    defer { client.shutdown() }
    let store = JobStore(client: client)
    let metrics = WorkerMetrics()
    let server = try configuration.metricsPort.map {
      try MetricsServer(port: $0, host: configuration.metricsAddress, metrics: metrics)
    }
    defer { server?.stop() }

    // Every kind that computes (answers, training shards, evals, dedupe) uses these threads, not
    // only the engine's: training workers have no --model.
    if let threads = configuration.threads { TensorThreads.configure(count: threads) }
    var engine = try configuration.model.map { try engineSettings(model: $0, metrics: metrics) }
    // Jobs from `trolley dataset caption` write their text into the dataset's items.
    engine?.datasetItems = DatasetStore(client: client)
    var loopConfiguration = configuration.loop
    // `trolley workers` shows each worker's build and, for engine workers, the model it runs.
    if let engine {
      loopConfiguration.version +=
        " · \(engine.batch.identity.summary) \(engine.batch.engine.weightFormat.rawValue)"
    }
    if configuration.model != nil {
      loopConfiguration.concurrency = max(loopConfiguration.concurrency, configuration.batchSize)
    }
    var curation: CurationJobSettings?
    if configuration.kinds.contains(where: { AllKinds.curationNames.contains($0) }) {
      // Curation reads sources under the same policy as the engine kinds: local files only
      // under --image-root, http(s) only from public addresses unless --allow-private-urls.
      var fetchPolicy = ImageFetcher.Policy()
      fetchPolicy.stallTimeout = configuration.fetchStallTimeout
      fetchPolicy.totalTimeout = max(.seconds(60), fetchPolicy.stallTimeout * 4)
      fetchPolicy.localRoots = configuration.imageRoots
      fetchPolicy.allowPrivateAddresses = configuration.allowPrivateURLs
      curation = CurationJobSettings(
        store: DatasetStore(client: client), fetcher: ImageFetcher(policy: fetchPolicy))
    }
    let loop = WorkerLoop(
      store: store,
      kinds: try AllKinds.named(
        configuration.kinds, engine: engine, curation: curation,
        training: TrainingJobSettings(client: client)
      ).map { KindRunner(any: $0) },
      configuration: loopConfiguration, logger: logger, metrics: metrics)
    let group = ServiceGroup(
      configuration: .init(
        services: ([loop] + maintenanceServices(store)).map {
          // The loop returns on its own with --once: then the rest shut down too, without error.
          .init(service: $0, successTerminationBehavior: .gracefullyShutdownGroup)
        }, gracefulShutdownSignals: [.sigterm],
        logger: logger))
    try await runWithInterrupts(group, loop: loop)
  }

  /// Loads the model once and wraps it for the `trol.*` kinds.
  private func engineSettings(model: String, metrics: WorkerMetrics) throws -> EngineJobSettings {
    logger.info(
      "loading model", metadata: ["model": "\(model)", "weights": "\(configuration.weights)"])
    // The packed-weights cache is keyed by the weights' content hash (hashed once, then cached
    // by size and modification time in `.trolley-identity.json`).
    let warn: (String) -> Void = { [logger] in logger.warning("\($0)") }
    let cacheKey: String? =
      if configuration.weights == .f16 && configuration.packedWeightsCache {
        try ModelIdentity.contentHash(model, warn: warn)
      } else {
        nil
      }
    let engine = try TroLEngine.load(
      modelDirectory: model, weights: configuration.weights, compute: configuration.compute,
      packedWeightsKey: cacheKey
    ) { [logger] outcome in
      switch outcome {
      case .used(let tensors):
        logger.info("packed weights mapped from the cache", metadata: ["tensors": "\(tensors)"])
      case .written(let tensors, let reason):
        logger.info(
          "packed weights cached for the next start",
          metadata: ["tensors": "\(tensors)", "previous_cache": "\(reason)"])
      case .notWritten(let reason):
        logger.warning("packed weights not cached; the next start repacks: \(reason)")
      case .unused: break
      }
    }
    let name = URL(fileURLWithPath: model).standardizedFileURL.lastPathComponent
    // Recorded in every result's provenance: hub id and revision, else the weights' SHA-256
    // (hashed once, then cached beside the checkpoint).
    let identity = try ModelIdentity.identify(
      directory: model, warn: { [logger] in logger.warning("\($0)") })
    logger.info("model identity", metadata: ["model": "\(identity.summary)"])
    var fetchPolicy = ImageFetcher.Policy()
    fetchPolicy.localRoots = configuration.imageRoots
    fetchPolicy.allowPrivateAddresses = configuration.allowPrivateURLs
    fetchPolicy.stallTimeout = configuration.fetchStallTimeout
    fetchPolicy.totalTimeout = max(.seconds(60), fetchPolicy.stallTimeout * 4)
    return EngineJobSettings(
      batch: EngineBatch(
        engine: engine, fetcher: ImageFetcher(policy: fetchPolicy), modelName: name,
        identity: identity, metrics: metrics),
      batchSize: configuration.batchSize, captionPrompt: configuration.captionPrompt,
      maxNewTokens: configuration.maxNewTokens,
      traversal: TraversalPolicy(
        mode: configuration.traversal ?? engine.model.config.defaultTraversal))
  }

  /// The queue's maintenance duties, run in every worker (each takes a lock so that one worker of
  /// the fleet does the work at a time). Results are deleted only with `retainSucceeded`.
  private func maintenanceServices(_ store: JobStore) -> [any Service] {
    guard configuration.maintenance else { return [] }
    return QueueMaintenance.services(
      store: store, retainSucceeded: configuration.retainSucceeded,
      reindexInterval: configuration.reindexInterval)
  }

  /// The signal ladder: the first Ctrl-C shuts down gracefully, the second hands everything back
  /// and exits.
  private func runWithInterrupts(_ group: ServiceGroup, loop: WorkerLoop) async throws {
    let interrupts = await UnixSignalsSequence(trapping: .sigint)
    let logger = logger
    try await withThrowingTaskGroup(of: Void.self) { tasks in
      tasks.addTask { try await group.run() }
      tasks.addTask {
        var count = 0
        for await _ in interrupts {
          count += 1
          if count == 1 {
            logger.notice("interrupted: finishing running jobs (Ctrl-C again to stop at once)")
            await group.triggerGracefulShutdown()
          } else {
            logger.notice("interrupted again: handing running jobs back and exiting")
            await loop.abandon()
            Foundation.exit(130)
          }
        }
      }
      try await tasks.next()
      tasks.cancelAll()
    }
  }
}
