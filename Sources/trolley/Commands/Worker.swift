import ArgumentParser
import Foundation
import Logging
import Tensor
import TroL
import TrolleyBasics
import TrolleyCLIKit
import TrolleyWorkers

/// `trolley worker`: claims and runs jobs until stopped.
struct Worker: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Run jobs from the queue until stopped (SIGTERM or Ctrl-C: finish or hand back).",
    discussion: """
      The worker registers itself, claims jobs of its kinds when it has free slots (woken by \
      LISTEN/NOTIFY, polling as a fallback), heartbeats their leases, and acknowledges outcomes in \
      batches. It also runs the queue's maintenance (scheduler, rescuer, stale-worker sweep, batch \
      counters, retention, and a REINDEX CONCURRENTLY of the hot indexes that one worker of the \
      fleet does every --reindex-interval seconds) unless --no-maintenance.

      SIGTERM or a first Ctrl-C: stop claiming, let running jobs finish within --grace seconds, \
      hand the rest back, exit. A second Ctrl-C hands everything back at once and exits.

      A job running longer than --job-timeout seconds (or its payload's "timeout_seconds") is \
      stopped (an engine job between two decode steps or prefill layers, the rest of its batch \
      unaffected) and fails with "timed out after N s"; it is retried while its attempts last. \
      A cancel request (trolley jobs cancel) stops a running job the same way at the next \
      heartbeat.

      With --model, the worker loads the TroL checkpoint once and runs trol.answer and \
      trol.caption jobs (the default kinds then), answering up to --batch-size claimed jobs as one \
      engine batch (jobs on the same image share its prefix); each job gets its own result.

      The configuration file (trolley config) may set model, batch_size, queues, kinds, \
      metrics_address, metrics_port and image_roots for the worker; a flag overrides the file.

      Examples:
        trolley worker --model ~/models/TroL-1.8B --batch-size 4 --metrics-port 9401
        trolley worker --model ./tiny --once
        trolley worker --kinds noop,sleep --concurrency 8
        trolley worker --kinds sleep --queues default,bulk --poll-only
      """)

  @Option(
    help: ArgumentHelp(
      "Comma-separated job kinds to run (\((AllKinds.names + AllKinds.trolNames + AllKinds.curationNames + AllKinds.trainingNames).joined(separator: ", "))); default: kinds in the configuration file, else with --model trol.answer,trol.caption.",
      valueName: "kinds"))
  var kinds: String?

  @Option(
    help: ArgumentHelp(
      "A TroL checkpoint folder (BK-Lee/TroL-* layout, or `trolley model synth --out DIR`); needed for trol.* kinds. Default: model in the configuration file.",
      valueName: "dir"))
  var model: String?

  @OptionGroup var engineOptions: EngineOptions

  @Flag(
    help:
      "Do not map or write the packed 16-bit weights cache (.trolley-packed-f16.bin beside the checkpoint)."
  )
  var noWeightCache = false

  @Option(
    help:
      "Most trol.* jobs answered together in one engine batch (default: batch_size in the configuration file, else 1)."
  )
  var batchSize: Int?

  @Option(help: "Engine threads (default: $TROLLEY_THREADS, else the physical cores).")
  var threads: Int?

  @Option(help: "Most new tokens per answer when a job does not say (default 256; at most 4096).")
  var maxNewTokens: Int = 256

  @Option(help: "The caption prompt for trol.caption jobs whose payload has none.")
  var captionPrompt: String = EngineJobSettings.defaultCaptionPrompt

  @Flag(help: "Exit once no job is available and none is running (for scripts).")
  var once = false

  @Option(
    help: ArgumentHelp(
      "Comma-separated queues to claim from (default: queues in the configuration file, else default).",
      valueName: "queues"))
  var queues: String?

  @Option(help: "Jobs run at once.")
  var concurrency: Int = 1

  @Option(
    help: ArgumentHelp(
      "Memory the jobs this worker runs at once may use together (512M, 8G, or none): it claims a job that declares its memory, such as a training shard, only if it fits beside the jobs it holds, and leaves jobs too big for this host to other workers. Default: the cgroup limit or MemAvailable at start, whichever is smaller.",
      valueName: "size"))
  var memoryLimit: String?

  @Option(
    help: "Seconds a lease lasts without a heartbeat (a crashed worker's jobs return after this).")
  var lease: Double = 30

  @Option(help: "Seconds running jobs get to finish after SIGTERM before they are handed back.")
  var grace: Double = 60

  @Option(
    help: ArgumentHelp(
      "Seconds a job may run before it fails as timed out and is retried (a payload's timeout_seconds overrides it; 0: no limit).",
      valueName: "seconds"))
  var jobTimeout: Double = 1800

  @Option(
    help: ArgumentHelp(
      "Seconds an image download may receive nothing before it fails (retried); the whole download may take 4x this, at least 60 s.",
      valueName: "seconds"))
  var fetchTimeout: Double = 15

  @Option(help: "Seconds between polls when no notification arrives.")
  var pollInterval: Double = 1

  @Flag(help: "Never LISTEN; poll only (for connection poolers in transaction mode).")
  var pollOnly = false

  @Flag(help: "Do not run the queue's maintenance services in this process.")
  var noMaintenance = false

  @Option(
    help: ArgumentHelp(
      "Seconds between rebuilds (REINDEX CONCURRENTLY) of the queue's hot indexes, done by one worker of the fleet at a time (0: never).",
      valueName: "seconds"))
  var reindexInterval: Double = 86_400

  @Option(
    help: ArgumentHelp(
      "Delete succeeded jobs (and their results) this long after they finished: 30d, 12h... Default: never. A batch with unfinished jobs keeps all of its results.",
      valueName: "age"))
  var retainSucceeded: String?

  @Option(
    name: .customLong("image-root"),
    help: ArgumentHelp(
      "A folder jobs may read local images (paths and file:// URLs) from; repeat for several. Default: image_roots in the configuration file, else none (jobs can name only http(s) images).",
      valueName: "dir"))
  var imageRoots: [String] = []

  @Flag(
    name: .customLong("allow-private-urls"),
    help:
      "Let jobs fetch images from loopback, private and link-local addresses (by default only public addresses, checked after DNS resolution and on every redirect)."
  )
  var allowPrivateURLs = false

  @Option(
    help:
      "Serve Prometheus metrics on this port (default: metrics_port in the configuration file, else none)."
  )
  var metricsPort: UInt16?

  @Option(
    help: ArgumentHelp(
      "The IPv4 address metrics are served on (default: metrics_address in the configuration file, else 127.0.0.1: this host only; 0.0.0.0: every interface).",
      valueName: "address"))
  var metricsAddress: String?

  @Option(help: "Log level: trace, debug, info, notice, warning, error.")
  var logLevel: String = "info"

  @OptionGroup var config: ConfigOptions

  @OptionGroup var database: DatabaseOptions

  /// What the worker runs with: each setting from its flag, else the environment, else the
  /// configuration file, else the built-in default (`trolley config` shows the same order).
  struct Settings {
    var model: String?
    var batchSize: Int
    var queues: [String]
    var kinds: [String]
    var metricsAddress: String
    var metricsPort: UInt16?
    var imageRoots: [String]
  }

  func settings() throws -> Settings {
    var flags: [ConfigurationKey: (flag: String, value: String)] = [:]
    if let model { flags[.model] = ("--model", model) }
    if let batchSize { flags[.batchSize] = ("--batch-size", String(batchSize)) }
    if let queues { flags[.workerQueues] = ("--queues", queues) }
    if let kinds { flags[.workerKinds] = ("--kinds", kinds) }
    if let metricsAddress { flags[.metricsAddress] = ("--metrics-address", metricsAddress) }
    if let metricsPort { flags[.metricsPort] = ("--metrics-port", String(metricsPort)) }
    if !imageRoots.isEmpty {
      flags[.imageRoots] = ("--image-root", imageRoots.joined(separator: ":"))
    }
    let resolved = try config.load(flags: flags)
    let model = resolved.value(.model).flatMap { $0.isEmpty ? nil : $0 }
    let kinds = resolved.value(.workerKinds).map(Self.list) ?? []
    return Settings(
      model: model,
      batchSize: try resolved.integer(.batchSize, in: 1...4096) ?? 1,
      queues: Self.list(resolved.value(.workerQueues) ?? "default"),
      kinds: kinds.isEmpty && model != nil ? AllKinds.trolNames : kinds,
      metricsAddress: resolved.value(.metricsAddress) ?? "127.0.0.1",
      metricsPort: try resolved.integer(.metricsPort, in: 1...65_535).map { UInt16($0) },
      imageRoots: (resolved.value(.imageRoots) ?? "").split(separator: ":").map(String.init)
        .filter { !$0.isEmpty })
  }

  func validate() throws {
    let settings: Settings
    do {
      settings = try self.settings()
    } catch let error as CLIError {
      throw ValidationError(error.message)
    }
    for root in settings.imageRoots {
      var isFolder: ObjCBool = false
      guard FileManager.default.fileExists(atPath: root, isDirectory: &isFolder), isFolder.boolValue
      else {
        throw ValidationError(
          "image root \(root) is not an existing folder (--image-root / image_roots)")
      }
    }
    guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
    if let memoryLimit {
      do {
        _ = try WorkerMemory.parse(memoryLimit)
      } catch {
        throw ValidationError("\(error)")
      }
    }
    // Closed ranges also refuse inf and nan, which would trap when made into a Duration.
    guard (1...86_400).contains(lease) else {
      throw ValidationError("--lease must be 1 to 86400 seconds, got \(lease)")
    }
    guard (0...86_400).contains(grace) else {
      throw ValidationError("--grace must be 0 to 86400 seconds, got \(grace)")
    }
    guard reindexInterval == 0 || (60...31_536_000).contains(reindexInterval) else {
      throw ValidationError(
        "--reindex-interval must be 0 (never) or 60 to 31536000 seconds; the default is 86400 (daily)"
      )
    }
    var address = in_addr()
    guard inet_pton(AF_INET, settings.metricsAddress, &address) == 1 else {
      throw ValidationError(
        "--metrics-address (metrics_address) must be an IPv4 address such as 127.0.0.1 or 0.0.0.0, got \(settings.metricsAddress)"
      )
    }
    if let retainSucceeded {
      do {
        _ = try DurationText.seconds(retainSucceeded, option: "--retain-succeeded")
      } catch {
        throw ValidationError(error.message)
      }
    }
    guard jobTimeout >= 0, jobTimeout <= 604_800 else {
      throw ValidationError("--job-timeout must be 0 (no limit) to 604800 seconds")
    }
    guard fetchTimeout >= 1, fetchTimeout <= 3600 else {
      throw ValidationError("--fetch-timeout must be 1 to 3600 seconds")
    }
    guard (0.01...3600).contains(pollInterval) else {
      throw ValidationError("--poll-interval must be 0.01 to 3600 seconds, got \(pollInterval)")
    }
    guard Logger.Level(rawValue: logLevel) != nil else {
      throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error")
    }
    guard !settings.queues.isEmpty else {
      throw ValidationError("--queues (queues) names no queue; give at least one, e.g. default")
    }
    guard (1...EngineJobSettings.maxNewTokensLimit).contains(maxNewTokens) else {
      throw ValidationError(
        "--max-new-tokens must be 1...\(EngineJobSettings.maxNewTokensLimit), got \(maxNewTokens)")
    }
    if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    if settings.kinds.isEmpty && settings.model == nil {
      throw ValidationError(
        "say what to run: --model DIR (or model in the configuration file) for TroL jobs (trol.answer, trol.caption), or --kinds (kinds) for the test kinds (\(AllKinds.names.joined(separator: ", ")))"
      )
    }
    let names = settings.kinds
    if settings.model == nil, let needing = names.first(where: { AllKinds.trolNames.contains($0) })
    {
      throw ValidationError(
        "job kind \(needing) needs a model: add --model DIR (a TroL checkpoint folder, or one made by `trolley model synth --like tiny --out DIR`)"
      )
    }
    let known = Set(
      AllKinds.names + AllKinds.trolNames + AllKinds.curationNames + AllKinds.trainingNames)
    if let unknown = names.first(where: { !known.contains($0) }) {
      throw ValidationError(
        "unknown job kind \(unknown); known kinds: \(known.sorted().joined(separator: ", "))")
    }
  }

  static func list(_ text: String) -> [String] {
    text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
      !$0.isEmpty
    }
  }

  func run() async throws {
    let level = Logger.Level(rawValue: logLevel) ?? .info
    LoggingSystem.bootstrap { label in
      var handler = StreamLogHandler.standardError(label: label)
      handler.logLevel = level
      return handler
    }
    let settings = try self.settings()
    var configuration = WorkerProcess.Configuration(
      database: try database.resolve(configFile: config.file), kinds: settings.kinds,
      loop: WorkerConfiguration(
        concurrency: concurrency, gracePeriod: .seconds(rounding: grace),
        heartbeatInterval: .seconds(rounding: lease) / 3, lease: .seconds(rounding: lease),
        pollInterval: .seconds(rounding: pollInterval), pollOnly: pollOnly,
        queues: settings.queues, version: Trolley.configuration.version, exitWhenIdle: once,
        jobTimeout: jobTimeout > 0 ? .seconds(rounding: jobTimeout) : nil,
        memoryLimit: try memoryLimit.map { try WorkerMemory.parse($0) } ?? WorkerMemory.detected()))
    configuration.model = settings.model
    configuration.weights = engineOptions.weightFormat
    configuration.compute = engineOptions.computeMode
    configuration.packedWeightsCache = !noWeightCache
    configuration.batchSize = settings.batchSize
    configuration.threads = threads
    configuration.maxNewTokens = maxNewTokens
    configuration.captionPrompt = captionPrompt
    configuration.traversal = engineOptions.traversalMode
    configuration.fetchStallTimeout = .seconds(rounding: fetchTimeout)
    configuration.maintenance = !noMaintenance
    configuration.reindexInterval = reindexInterval > 0 ? .seconds(rounding: reindexInterval) : nil
    configuration.metricsPort = settings.metricsPort
    configuration.metricsAddress = settings.metricsAddress
    configuration.retainSucceeded = try retainSucceeded.map {
      .seconds(rounding: try DurationText.seconds($0, option: "--retain-succeeded"))
    }
    configuration.imageRoots = settings.imageRoots
    configuration.allowPrivateURLs = allowPrivateURLs
    try await WorkerProcess(configuration: configuration).run()
  }
}
