import ArgumentParser
import Foundation
import JobQueue
import Logging
import Postgres
import ServiceLifecycle
import TrolleyWorkers
import UnixSignals

/// `trolley worker`: claims and runs jobs until stopped.
struct Worker: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Run jobs from the queue until stopped (SIGTERM or Ctrl-C: finish or hand back).",
    discussion: """
      The worker registers itself, claims jobs of its kinds when it has free slots (woken by \
      LISTEN/NOTIFY, polling as a fallback), heartbeats their leases, and acknowledges outcomes in \
      batches. It also runs the queue's maintenance (scheduler, rescuer, stale-worker sweep, batch \
      counters, retention) unless --no-maintenance.

      SIGTERM or a first Ctrl-C: stop claiming, let running jobs finish within --grace seconds, \
      hand the rest back, exit. A second Ctrl-C hands everything back at once and exits.

      Examples:
        trolley worker --kinds noop,sleep --concurrency 8
        trolley worker --kinds sleep --queues default,bulk --poll-only
      """)

  @Option(
    help: ArgumentHelp(
      "Comma-separated job kinds to run (\(AllKinds.names.joined(separator: ", "))).",
      valueName: "kinds"))
  var kinds: String

  @Option(help: ArgumentHelp("Comma-separated queues to claim from.", valueName: "queues"))
  var queues: String = "default"

  @Option(help: "Jobs run at once.")
  var concurrency: Int = 1

  @Option(
    help: "Seconds a lease lasts without a heartbeat (a crashed worker's jobs return after this).")
  var lease: Double = 30

  @Option(help: "Seconds running jobs get to finish after SIGTERM before they are handed back.")
  var grace: Double = 60

  @Option(help: "Seconds between polls when no notification arrives.")
  var pollInterval: Double = 1

  @Flag(help: "Never LISTEN; poll only (for connection poolers in transaction mode).")
  var pollOnly = false

  @Flag(help: "Do not run the queue's maintenance services in this process.")
  var noMaintenance = false

  @Option(help: "Serve Prometheus metrics on this port.")
  var metricsPort: UInt16?

  @Option(help: "Log level: trace, debug, info, notice, warning, error.")
  var logLevel: String = "info"

  @OptionGroup var database: DatabaseOptions

  func validate() throws {
    guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
    guard lease >= 1 else { throw ValidationError("--lease must be at least 1 second") }
    guard grace >= 0 else { throw ValidationError("--grace must not be negative") }
    guard pollInterval > 0 else { throw ValidationError("--poll-interval must be positive") }
    guard Logger.Level(rawValue: logLevel) != nil else {
      throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error")
    }
    _ = try AllKinds.named(Self.list(kinds))
  }

  static func list(_ text: String) -> [String] {
    text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
      !$0.isEmpty
    }
  }

  func run() async throws {
    // A closed log pipe must not kill the worker mid-job (SIGPIPE's default action).
    signal(SIGPIPE, SIG_IGN)
    let level = Logger.Level(rawValue: logLevel) ?? .info
    LoggingSystem.bootstrap { label in
      var handler = StreamLogHandler.standardError(label: label)
      handler.logLevel = level
      return handler
    }
    let logger = Logger(label: "trolley.worker")
    let client = PostgresClient(
      configuration: try database.resolve(), maximumConnections: 6)
    let store = JobStore(client: client)
    let metrics = WorkerMetrics()
    let server = try metricsPort.map { try MetricsServer(port: $0, metrics: metrics) }
    defer { server?.stop() }

    let lease = Duration.milliseconds(Int64(lease * 1000))
    let loop = WorkerLoop(
      store: store,
      kinds: try AllKinds.named(Self.list(kinds)).map { KindRunner(any: $0) },
      configuration: WorkerConfiguration(
        concurrency: concurrency, gracePeriod: .milliseconds(Int64(grace * 1000)),
        heartbeatInterval: lease / 3, lease: lease,
        pollInterval: .milliseconds(Int64(pollInterval * 1000)), pollOnly: pollOnly,
        queues: Self.list(queues), version: Trolley.configuration.version),
      logger: logger, metrics: metrics)
    var services: [any Service] = [loop]
    if !noMaintenance {
      services +=
        [
          Scheduler(store: store), Rescuer(store: store), WorkerSweeper(store: store),
          BatchCounterRollup(store: store), RetentionCleaner(store: store),
        ] as [any Service]
    }
    let group = ServiceGroup(
      configuration: .init(
        services: services.map { .init(service: $0) }, gracefulShutdownSignals: [.sigterm],
        logger: logger))
    // Ctrl-C: the first shuts down gracefully, the second hands everything back and exits.
    let interrupts = await UnixSignalsSequence(trapping: .sigint)
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
    client.shutdown()
  }
}
