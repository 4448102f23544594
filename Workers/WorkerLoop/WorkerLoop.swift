import Foundation
public import JobQueue
public import Logging
import Postgres
public import ServiceLifecycle

/// The generic worker: claims jobs of its kinds from its queues, runs them (in engine-sized
/// batches when a kind asks for that), heartbeats their leases, and acknowledges their outcomes
/// in batches.
///
/// - Claims happen when slots are free: at once after a NOTIFY from an enqueue (LISTEN on a
///   connection of its own), after a job finishes, or every `pollInterval` as a fallback
///   (`pollOnly` turns LISTEN off for connection poolers).
/// - Heartbeats extend every held lease in one statement, carry progress, and bring back cancel
///   requests and lost leases; the affected jobs are asked to stop through their `JobContext`.
/// - A job running past its timeout (`jobTimeout`, or its payload's `timeout_seconds`) is asked to
///   stop and fails with a retryable "timed out after N s"; one that does not stop within
///   `timeoutGrace` is recorded as timed out anyway and its slot freed.
/// - Graceful shutdown (SIGTERM through a `ServiceGroup`): stop claiming, let running jobs finish
///   within `gracePeriod`, then hand the rest back (fenced, no budget charged), flush
///   acknowledgements and mark the worker stopped. `abandon()` does the hand-back at once.
public final class WorkerLoop: Service, Sendable {
  public let store: JobStore
  public let configuration: WorkerConfiguration
  let runners: [String: KindRunner]
  let logger: Logger
  let metrics: WorkerMetrics?
  let observe: (@Sendable (WorkerEvent) -> Void)?

  private struct Running {
    var job: ClaimedJob
    var context: JobContext
    var started: ContinuousClock.Instant
    /// When the job times out, if it has a limit.
    var deadline: ContinuousClock.Instant?
    var policy: RetryPolicy
  }

  private struct State {
    var workerID: Int64?
    var running: [Int64: Running] = [:]
    var pendingAcks: [JobCompletion] = []
    /// Acknowledgements whose statement is running: heartbeats keep covering their leases, so a
    /// slow acknowledgement (a lock wait, a retry) never lets them expire and be rescued.
    var inFlightAcks: [Int64: JobCompletion] = [:]
    var shuttingDown = false
    var stopped = false
  }

  private let state = Protected(State())
  /// Wakes the claim loop: a notification, a freed slot, shutdown.
  private let claimWake = WakeSignal()
  /// Wakes the acknowledger.
  private let ackWake = WakeSignal()
  /// Wakes the timeout watch when jobs with a deadline start.
  private let timeoutWake = WakeSignal()

  /// Creates a worker loop.
  /// - Parameters:
  ///   - store: the queue.
  ///   - kinds: the kinds it runs (it claims only these).
  ///   - configuration: queues, concurrency, lease, timings.
  ///   - logger: where it logs.
  ///   - metrics: Prometheus metrics to update, if any.
  ///   - observe: called with each `WorkerEvent` (tests).
  public init(
    store: JobStore, kinds: [KindRunner], configuration: WorkerConfiguration = .init(),
    logger: Logger = Logger(label: "trolley.worker"), metrics: WorkerMetrics? = nil,
    observe: (@Sendable (WorkerEvent) -> Void)? = nil
  ) {
    precondition(!kinds.isEmpty, "a worker needs at least one job kind")
    self.store = store
    self.configuration = configuration
    self.runners = Dictionary(kinds.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    self.logger = logger
    self.metrics = metrics
    self.observe = observe
  }

  /// The worker's id in the registry, once registered.
  public var workerID: Int64? { state.withLock { $0.workerID } }

  /// Jobs running now.
  public var runningCount: Int { state.withLock { $0.running.count } }

  public func run() async throws {
    // Registration may wait for a database that is down: a shutdown signal ends that wait.
    let workerID: Int64
    do {
      workerID = try await cancelWhenGracefulShutdown { try await self.register() }
    } catch is CancellationError {
      logger.notice("stopped before the worker could register")
      observe?(.stopped)
      return
    }
    await withGracefulShutdownHandler {
      await withTaskGroup(of: Void.self) { group in
        group.addTask { await self.heartbeatLoop(workerID: workerID) }
        group.addTask { await self.acknowledgeLoop() }
        group.addTask { await self.timeoutLoop() }
        if metrics != nil {
          group.addTask { await self.queueDepthLoop() }
        }
        if !configuration.pollOnly {
          group.addTask { await self.listenLoop() }
        }
        await claimLoop(workerID: workerID, group: &group)
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
    state.withLock { $0.shuttingDown = true }
    claimWake.signal()
  }

  /// Hands every running job back at once and marks the worker stopped, without waiting for the
  /// jobs (a second Ctrl-C). The process may exit right after.
  public func abandon() async {
    beginShutdown()
    handBackRunning()
    await shielded { await self.flushAcknowledgements(all: true) }
    if let workerID { await finish(workerID: workerID) }
  }

  // MARK: - Registration

  private func register() async throws -> Int64 {
    var failures = 0
    while true {
      do {
        let id = try await store.workerRegister(
          .init(
            host: configuration.host, pid: configuration.pid, version: configuration.version,
            queues: configuration.queues, kinds: runners.keys.sorted(),
            capacity: Int32(clamping: configuration.concurrency), lease: configuration.lease))
        state.withLock { $0.workerID = id }
        logger.info(
          "worker registered",
          metadata: [
            "worker_id": "\(id)", "queues": "\(configuration.queues)",
            "kinds": "\(runners.keys.sorted())", "concurrency": "\(configuration.concurrency)",
          ])
        observe?(.registered(workerID: id))
        return id
      } catch let error as PostgresError where error.isPermanent {
        // No retry fixes a missing schema or a refused login: say so and stop (exit 1).
        throw WorkerStartError(error)
      } catch {
        try Task.checkCancellation()
        failures += 1
        logger.warning(
          "could not register the worker; retrying", metadata: ["error": "\(error)"])
        try await Task.sleep(for: configuration.pollInterval * min(failures, 10))
      }
    }
  }

  // MARK: - Claiming

  private func claimLoop(workerID: Int64, group: inout TaskGroup<Void>) async {
    let kinds = runners.keys.sorted()
    var turn = 0
    var failures = 0
    while !Task.isCancelled {
      // A suspect (a job whose lease expired before) runs alone: while it runs, no slot is free,
      // so that if it kills the worker again, no other job is charged with the crash.
      let (free, holding, shuttingDown) = state.withLock { state in
        let suspect = state.running.values.contains { $0.job.crashCount > 0 }
        return (
          suspect ? 0 : configuration.concurrency - state.running.count, state.running.count,
          state.shuttingDown
        )
      }
      if shuttingDown { return }
      var claimed = 0
      if free > 0 {
        do {
          for offset in 0..<configuration.queues.count where claimed < free {
            let queue = configuration.queues[(turn + offset) % configuration.queues.count]
            let jobs = try await store.jobClaim(
              .init(
                queue: queue, kinds: kinds, limit: free - claimed, workerID: workerID,
                lease: configuration.lease, holding: holding + claimed))
            if jobs.isEmpty { continue }
            claimed += jobs.count
            start(jobs, group: &group)
            if jobs.contains(where: { $0.crashCount > 0 }) { break }
          }
          turn += 1
          failures = 0
        } catch {
          if Task.isCancelled { return }
          failures += 1
          logger.warning("claim failed; retrying", metadata: ["error": "\(error)"])
          await claimWake.wait(timeout: configuration.pollInterval * min(failures, 5))
          continue
        }
      }
      if configuration.exitWhenIdle, claimed == 0, free > 0,
        state.withLock({ $0.running.isEmpty })
      {
        logger.info("no job available and none running: exiting (--once)")
        return
      }
      // Slots full, or the queues ran dry: wait for a finished job, a notification or the poll.
      if claimed == 0 || claimed < free || free <= 0 {
        await claimWake.wait(timeout: configuration.pollInterval)
      }
    }
  }

  private func start(_ jobs: [ClaimedJob], group: inout TaskGroup<Void>) {
    observe?(.claimed(jobs))
    let now = ContinuousClock.now
    var byKind: [String: [ClaimedJob]] = [:]
    var timeouts: [Int64: Duration] = [:]
    var invalid: [JobCompletion] = []
    for job in jobs {
      do {
        if let timeout = try JobTimeout.limit(for: job, default: configuration.jobTimeout) {
          timeouts[job.id] = timeout
        }
        byKind[job.kind, default: []].append(job)
      } catch {
        invalid.append(JobCompletion(job, .failedPermanently(error: "\(error)")))
      }
    }
    if !invalid.isEmpty { acknowledge(invalid) }
    for (kind, jobsOfKind) in byKind {
      guard let runner = runners[kind] else {
        // The claim filters by kind, so this only happens if the registry changes underneath.
        acknowledge(
          jobsOfKind.map {
            JobCompletion($0, .failedPermanently(error: "no worker runs kind \(kind)"))
          })
        continue
      }
      var index = 0
      while index < jobsOfKind.count {
        let chunk = Array(jobsOfKind[index..<min(index + runner.maxBatchSize, jobsOfKind.count)])
        index += chunk.count
        let contexts = chunk.map {
          JobContext(
            jobID: $0.id, queue: $0.queue, attempt: $0.attempt, batchID: $0.batchID,
            timeout: timeouts[$0.id])
        }
        state.withLock { state in
          for (job, context) in zip(chunk, contexts) {
            state.running[job.id] = Running(
              job: job, context: context, started: now,
              deadline: context.timeout.map { now + $0 }, policy: runner.retryPolicy)
          }
        }
        group.addTask { await self.execute(chunk, contexts: contexts, runner: runner) }
      }
    }
    metrics?.setJobsInFlight(runningCount)
    if !timeouts.isEmpty { timeoutWake.signal() }
  }

  private func execute(_ jobs: [ClaimedJob], contexts: [JobContext], runner: KindRunner) async {
    let outcomes = await runner.run(jobs, contexts: contexts)
    let finishedAt = ContinuousClock.now
    var completions: [JobCompletion] = []
    var durations: [(String, String, Double)] = []
    let flushNow = state.withLock { state -> Bool in
      for (job, outcome) in zip(jobs, outcomes) {
        // Gone when it was handed back at shutdown: that report already went out.
        guard let running = state.running.removeValue(forKey: job.id) else { continue }
        if running.context.stopReason == .leaseLost { continue }
        let completion = JobCompletion(job, outcome)
        completions.append(completion)
        state.pendingAcks.append(completion)
        durations.append(
          (job.kind, Self.label(outcome), running.started.duration(to: finishedAt).seconds))
      }
      return state.pendingAcks.count >= configuration.ackBatchSize
    }
    for completion in completions {
      observe?(.finished(jobID: completion.id, outcome: completion.outcome))
    }
    if let metrics {
      for (kind, outcome, seconds) in durations {
        metrics.recordJob(kind: kind, outcome: outcome, seconds: seconds)
      }
      metrics.setJobsInFlight(runningCount)
    }
    if flushNow || configuration.ackDelay == .zero { ackWake.signal() }
    ackWake.signal()
    claimWake.signal()
  }

  private static func label(_ outcome: JobOutcome) -> String {
    switch outcome {
    case .succeeded: "succeeded"
    case .failed: "retrying"
    case .failedPermanently: "dead"
    case .cancelled: "cancelled"
    case .handedBack: "handed_back"
    }
  }

  // MARK: - Acknowledging

  private func acknowledge(_ completions: [JobCompletion]) {
    state.withLock { $0.pendingAcks += completions }
    ackWake.signal()
  }

  private func acknowledgeLoop() async {
    while !Task.isCancelled {
      await ackWake.wait(timeout: .seconds(1))
      if Task.isCancelled { return }
      let pending = state.withLock { $0.pendingAcks.count }
      if pending == 0 { continue }
      if pending < configuration.ackBatchSize && configuration.ackDelay > .zero {
        // Let a few more outcomes share the statement.
        try? await Task.sleep(for: configuration.ackDelay)
      }
      await flushAcknowledgements(all: false)
    }
  }

  /// Writes pending acknowledgements, 1,000 per statement. On a database error they stay
  /// pending (their leases keep being extended) and are retried.
  private func flushAcknowledgements(all: Bool) async {
    var failures = 0
    while true {
      let batch = state.withLock { state -> [JobCompletion] in
        let taken = Array(state.pendingAcks.prefix(1000))
        state.pendingAcks.removeFirst(taken.count)
        for completion in taken { state.inFlightAcks[completion.id] = completion }
        return taken
      }
      if batch.isEmpty { return }
      defer {
        state.withLock { state in
          for completion in batch { state.inFlightAcks.removeValue(forKey: completion.id) }
        }
      }
      do {
        let result = try await store.jobCompleteMany(.init(completions: batch))
        for id in result.rejected {
          logger.warning(
            "an outcome was rejected: the job's lease had been taken over",
            metadata: ["job_id": "\(id)"])
        }
        observe?(.acknowledged(result))
        failures = 0
      } catch {
        state.withLock { $0.pendingAcks.insert(contentsOf: batch, at: 0) }
        failures += 1
        logger.warning(
          "acknowledging outcomes failed; retrying", metadata: ["error": "\(error)"])
        if !all && Task.isCancelled { return }
        if failures > 20 { return }
        try? await shieldedSleep(configuration.pollInterval * min(failures, 5))
      }
    }
  }

  // MARK: - Heartbeats

  private func heartbeatLoop(workerID: Int64) async {
    var lastSuccess = ContinuousClock.now
    while !Task.isCancelled {
      do {
        try await Task.sleep(for: configuration.heartbeatInterval)
      } catch {
        return
      }
      let entries = state.withLock { state in
        state.running.values.map {
          JobHeartbeatParams.Entry(
            id: $0.job.id, leaseToken: $0.job.leaseToken, progress: $0.context.progress)
        }
          + (state.pendingAcks + state.inFlightAcks.values).map {
            JobHeartbeatParams.Entry(id: $0.id, leaseToken: $0.leaseToken)
          }
      }
      do {
        let result = try await store.jobHeartbeatMany(
          .init(entries: entries, lease: configuration.lease))
        let contexts = state.withLock { state in
          (
            cancel: result.cancelRequested.compactMap { state.running[$0]?.context },
            lost: result.lost.compactMap { state.running[$0]?.context }
          )
        }
        for context in contexts.cancel { context.requestStop(.cancelRequested) }
        for context in contexts.lost {
          logger.warning(
            "lost the lease of a running job; stopping it", metadata: ["job_id": "\(context.jobID)"]
          )
          context.requestStop(.leaseLost)
        }
        try await store.workerHeartbeat(id: workerID)
        lastSuccess = .now
        metrics?.setHeartbeatAge(seconds: 0)
        observe?(.heartbeat(result))
      } catch {
        if Task.isCancelled { return }
        metrics?.setHeartbeatAge(seconds: lastSuccess.duration(to: .now).seconds)
        logger.warning("heartbeat failed; retrying", metadata: ["error": "\(error)"])
      }
    }
  }

  // MARK: - Timeouts

  /// Stops jobs that reach their deadline; frees the slots of those that do not stop in time.
  private func timeoutLoop() async {
    while !Task.isCancelled {
      let now = ContinuousClock.now
      let grace = configuration.timeoutGrace
      let (expired, abandoned, next) = state.withLock {
        state -> ([JobContext], [Running], ContinuousClock.Instant?) in
        var expired: [JobContext] = []
        var abandoned: [Running] = []
        var next: ContinuousClock.Instant?
        for (id, entry) in state.running {
          guard let deadline = entry.deadline else { continue }
          let reason = entry.context.stopReason
          if deadline > now {
            if reason == nil { next = min(next ?? deadline, deadline) }
          } else if reason == nil {
            expired.append(entry.context)
            next = min(next ?? deadline + grace, deadline + grace)
          } else if reason == .timedOut {
            if deadline + grace <= now {
              abandoned.append(entry)
              state.running.removeValue(forKey: id)
            } else {
              next = min(next ?? deadline + grace, deadline + grace)
            }
          }
        }
        return (expired, abandoned, next)
      }
      for context in expired {
        logger.warning(
          "a job ran past its timeout; stopping it",
          metadata: ["job_id": "\(context.jobID)", "error": "\(context.timeoutMessage)"])
        context.requestStop(.timedOut)
      }
      if !abandoned.isEmpty { recordAbandoned(abandoned, at: now) }
      await timeoutWake.wait(timeout: next.map { now.duration(to: $0) } ?? .seconds(3600))
    }
  }

  /// Records timed-out jobs that did not stop within the grace period as timed out, so their slots
  /// serve other jobs; whatever they report later is ignored.
  private func recordAbandoned(_ abandoned: [Running], at now: ContinuousClock.Instant) {
    logger.error(
      "timed-out jobs did not stop within the grace period; recording their timeout and freeing their slots",
      metadata: ["jobs": "\(abandoned.map(\.job.id).sorted())"])
    let completions = abandoned.map {
      JobCompletion(
        $0.job, KindRunner.timedOut($0.job, context: $0.context, policy: $0.policy))
    }
    acknowledge(completions)
    for completion in completions {
      observe?(.finished(jobID: completion.id, outcome: completion.outcome))
    }
    if let metrics {
      for entry in abandoned {
        metrics.recordJob(
          kind: entry.job.kind, outcome: "retrying",
          seconds: entry.started.duration(to: now).seconds)
      }
      metrics.setJobsInFlight(runningCount)
    }
    claimWake.signal()
  }

  // MARK: - Queue depth

  /// Keeps `trolley_queue_depth` current: jobs available or waiting to retry in this worker's
  /// queues, counted every `queueDepthInterval` on a connection of the pool (never in the
  /// heartbeat's way).
  private func queueDepthLoop() async {
    guard let metrics else { return }
    let queues = Set(configuration.queues)
    while !Task.isCancelled {
      do {
        let overview = try await store.client.withConnection {
          try self.store.queueOverview(on: $0)
        }
        let depth = overview.filter { queues.contains($0.name) }.reduce(Int64(0)) {
          $0 + ($1.counts[.available] ?? 0) + ($1.counts[.retrying] ?? 0)
        }
        metrics.setQueueDepth(Int(depth))
      } catch {
        if Task.isCancelled { return }
        logger.debug("counting the queue depth failed", metadata: ["error": "\(error)"])
      }
      do {
        try await Task.sleep(for: configuration.queueDepthInterval)
      } catch {
        return
      }
    }
  }

  // MARK: - Notifications

  private func listenLoop() async {
    let listener = PostgresListener(
      configuration: store.client.configuration, channels: [JobStore.notificationChannel])
    defer { listener.close() }
    let queues = Set(configuration.queues)
    var healthy = true
    while !Task.isCancelled {
      do {
        let notifications = try await listener.next(timeout: .seconds(30))
        if !healthy {
          // Notifications sent while disconnected are lost: look for work now.
          healthy = true
          claimWake.signal()
        }
        if notifications.contains(where: { queues.contains($0.payload) }) { claimWake.signal() }
      } catch is CancellationError {
        return
      } catch {
        healthy = false
        logger.warning(
          "listening for notifications failed; polling meanwhile", metadata: ["error": "\(error)"])
        try? await Task.sleep(for: configuration.pollInterval)
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
      await claimWake.wait(timeout: min(remaining, .milliseconds(100)))
    }
    handBackRunning()
    await shielded { await self.flushAcknowledgements(all: true) }
  }

  /// Asks every running job to stop and queues its hand-back.
  private func handBackRunning() {
    let running = state.withLock { state -> [Running] in
      defer { state.running.removeAll() }
      return Array(state.running.values)
    }
    guard !running.isEmpty else { return }
    for entry in running { entry.context.requestStop(.shutdown) }
    acknowledge(running.map { JobCompletion($0.job, .handedBack) })
    logger.notice(
      "handing running jobs back", metadata: ["jobs": "\(running.map(\.job.id).sorted())"])
    observe?(.handedBack(running.map(\.job.id)))
  }

  private func finish(workerID: Int64) async {
    let alreadyStopped = state.withLock { state -> Bool in
      defer { state.stopped = true }
      return state.stopped
    }
    if alreadyStopped { return }
    await shielded { await self.flushAcknowledgements(all: true) }
    await shielded {
      do {
        try await self.store.workerStop(id: workerID)
      } catch {
        self.logger.warning("could not mark the worker stopped", metadata: ["error": "\(error)"])
      }
    }
    logger.info("worker stopped", metadata: ["worker_id": "\(workerID)"])
    observe?(.stopped)
  }

  /// Runs final writes (hand-backs, acknowledgements, the stop record) in a task that does not
  /// inherit the caller's cancellation: they must go out even when the worker is being cancelled
  /// (style.md's one exception to "no unstructured tasks").
  private func shielded(_ body: @escaping @Sendable () async -> Void) async {
    await Task { await body() }.value
  }

  private func shieldedSleep(_ duration: Duration) async throws {
    try await Task { try await Task.sleep(for: duration) }.value
  }
}

extension Duration {
  /// The duration in seconds as a Double.
  fileprivate var seconds: Double {
    Double(components.seconds) + Double(components.attoseconds) / 1e18
  }
}
