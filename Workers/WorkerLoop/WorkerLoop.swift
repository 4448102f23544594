import Foundation
public import JobQueue
public import Logging
import Postgres
public import ServiceLifecycle
import Synchronization

/// The generic worker: claims jobs of its kinds from its queues, runs them (in engine-sized
/// batches when a kind asks for that), heartbeats their leases, and acknowledges their outcomes
/// in batches. It composes its parts, each in its own file and tested on its own:
///
/// - `ClaimLoop`: claims when slots are free: at once after a notification from an enqueue (the
///   driver's `listen`; `pollOnly` turns it off for connection poolers), after a job finishes, or
///   every `pollInterval` as a fallback.
/// - `LeaseKeeper`: heartbeats extend every held lease in one statement, carry progress, and bring
///   back cancel requests and lost leases; the affected jobs are asked to stop through their
///   `JobContext`.
/// - `TimeoutWatch`: a job running past its timeout (`jobTimeout`, or its payload's
///   `timeout_seconds`) is asked to stop and fails with a retryable "timed out after N s"; one
///   that does not stop within `timeoutGrace` is recorded as timed out anyway and its slot freed.
/// - `Acknowledger`: outcomes are written in batches.
/// - `QueueDepthGauge`: with metrics, the queue depth gauge.
///
/// Their shared state is one `WorkerState` value behind one lock (`WorkerCore`).
///
/// Graceful shutdown (SIGTERM through a `ServiceGroup`): stop claiming, let running jobs finish
/// within `gracePeriod`, then hand the rest back (fenced, no budget charged), flush
/// acknowledgements and mark the worker stopped. `abandon()` does the hand-back at once.
public final class WorkerLoop: Service, Sendable {
  /// The queue the worker runs against.
  public let driver: any JobQueueDriver
  public let configuration: WorkerConfiguration
  let runners: [String: KindRunner]
  let core: WorkerCore
  let acknowledger: Acknowledger
  let claims: ClaimLoop
  let leases: LeaseKeeper
  let timeouts: TimeoutWatch

  /// Creates a worker loop.
  /// - Parameters:
  ///   - driver: the queue (a `JobStore`, or an in-memory queue in unit tests).
  ///   - kinds: the kinds it runs (it claims only these).
  ///   - configuration: queues, concurrency, lease, timings.
  ///   - logger: where it logs.
  ///   - metrics: Prometheus metrics to update, if any.
  ///   - observe: called with each `WorkerEvent` (tests).
  public init(
    driver: any JobQueueDriver, kinds: [KindRunner], configuration: WorkerConfiguration = .init(),
    logger: Logger = Logger(label: "trolley.worker"), metrics: WorkerMetrics? = nil,
    observe: (@Sendable (WorkerEvent) -> Void)? = nil
  ) {
    precondition(!kinds.isEmpty, "a worker needs at least one job kind")
    self.driver = driver
    self.configuration = configuration
    runners = Dictionary(kinds.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    core = WorkerCore(
      driver: driver, configuration: configuration, logger: logger, metrics: metrics,
      observe: observe)
    acknowledger = Acknowledger(core: core)
    claims = ClaimLoop(core: core, runners: runners, acknowledger: acknowledger)
    leases = LeaseKeeper(core: core)
    timeouts = TimeoutWatch(core: core, acknowledger: acknowledger)
  }

  /// Creates a worker loop over PostgreSQL.
  public convenience init(
    store: JobStore, kinds: [KindRunner], configuration: WorkerConfiguration = .init(),
    logger: Logger = Logger(label: "trolley.worker"), metrics: WorkerMetrics? = nil,
    observe: (@Sendable (WorkerEvent) -> Void)? = nil
  ) {
    self.init(
      driver: store, kinds: kinds, configuration: configuration, logger: logger, metrics: metrics,
      observe: observe)
  }

  /// The worker's id in the registry, once registered.
  public var workerID: Int64? { core.state.withLock { $0.workerID } }

  /// Jobs running now.
  public var runningCount: Int { core.runningCount }

  public func run() async throws {
    // Registration may wait for a database that is down: a shutdown signal ends that wait.
    let workerID: Int64
    do {
      workerID = try await cancelWhenGracefulShutdown { try await self.register() }
    } catch is CancellationError {
      core.logger.notice("stopped before the worker could register")
      core.observe?(.stopped)
      return
    }
    await withGracefulShutdownHandler {
      await withTaskGroup(of: Void.self) { group in
        group.addTask { await self.leases.run(workerID: workerID) }
        group.addTask { await self.acknowledger.run() }
        group.addTask { await self.timeouts.run() }
        if let metrics = core.metrics {
          group.addTask { await QueueDepthGauge(core: self.core, metrics: metrics).run(workerID: workerID) }
        }
        if !configuration.pollOnly {
          group.addTask {
            await self.driver.listen(
              queues: Set(self.configuration.queues),
              retryInterval: self.configuration.pollInterval, logger: self.core.logger,
              wake: { self.core.claimWake.signal() })
          }
        }
        await claims.run(workerID: workerID, group: &group)
        await drain()
        group.cancelAll()
      }
    } onGracefulShutdown: {
      self.beginShutdown()
    }
    await finish(workerID: workerID)
  }

  /// Stops claiming (as on SIGTERM); running jobs get `gracePeriod` to finish.
  public func beginShutdown() {
    core.state.withLock { $0.shuttingDown = true }
    core.claimWake.signal()
  }

  /// Hands every running job back at once and marks the worker stopped, without waiting for the
  /// jobs (a second Ctrl-C). The process may exit right after.
  public func abandon() async {
    beginShutdown()
    handBackRunning()
    await core.shielded { await self.acknowledger.flush(all: true) }
    if let workerID { await finish(workerID: workerID) }
  }

  // MARK: - Registration

  private func register() async throws -> Int64 {
    let kinds = runners.keys.sorted()
    var failures = 0
    while true {
      do {
        let id = try await driver.register(
          .init(
            host: configuration.host, pid: configuration.pid, version: configuration.version,
            queues: configuration.queues, kinds: kinds,
            capacity: Int32(clamping: configuration.concurrency), lease: configuration.lease))
        core.state.withLock { $0.workerID = id }
        core.logger.info(
          "worker registered",
          metadata: [
            "worker_id": "\(id)", "queues": "\(configuration.queues)", "kinds": "\(kinds)",
            "concurrency": "\(configuration.concurrency)",
          ])
        core.observe?(.registered(workerID: id))
        return id
      } catch let error as PostgresError where error.isPermanent {
        // No retry fixes a missing schema or a refused login: say so and stop (exit 1).
        throw WorkerStartError(error)
      } catch {
        try Task.checkCancellation()
        failures += 1
        core.logger.warning(
          "could not register the worker; retrying", metadata: ["error": "\(error)"])
        guard await core.pause(for: configuration.pollInterval * min(failures, 10)) else {
          throw CancellationError()
        }
      }
    }
  }

  // MARK: - Shutdown

  /// Waits up to the grace period for running jobs, then hands the rest back.
  private func drain() async {
    let clock = ContinuousClock()
    let deadline = clock.now + configuration.gracePeriod
    while !Task.isCancelled && runningCount > 0 {
      let remaining = clock.now.duration(to: deadline)
      if remaining <= .zero { break }
      await core.claimWake.wait(timeout: min(remaining, .milliseconds(100)))
    }
    handBackRunning()
    await core.shielded { await self.acknowledger.flush(all: true) }
  }

  /// Asks every running job to stop and queues its hand-back.
  private func handBackRunning() {
    let running = core.state.withLock { $0.takeAllRunning() }
    guard !running.isEmpty else { return }
    for entry in running { entry.context.requestStop(.shutdown) }
    acknowledger.acknowledge(running.map { JobCompletion($0.job, .handedBack) })
    core.logger.notice(
      "handing running jobs back", metadata: ["jobs": "\(running.map(\.job.id).sorted())"])
    core.observe?(.handedBack(running.map(\.job.id)))
  }

  private func finish(workerID: Int64) async {
    if core.state.withLock({ $0.markStopped() }) { return }
    await core.shielded { await self.acknowledger.flush(all: true) }
    await core.shielded {
      do {
        try await self.driver.workerStop(id: workerID)
      } catch {
        self.core.logger.warning(
          "could not mark the worker stopped", metadata: ["error": "\(error)"])
      }
    }
    core.logger.info("worker stopped", metadata: ["worker_id": "\(workerID)"])
    core.observe?(.stopped)
  }
}
