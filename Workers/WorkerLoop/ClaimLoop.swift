import JobQueue
import Logging
import Synchronization

/// Claims jobs when slots are free, from the worker's queues in turn, and runs them: in chunks of
/// the kind's `maxBatchSize`, each chunk a child task of the loop's task group. It waits (for a
/// finished job, a notification or `pollInterval`) only when it claimed less than it could.
struct ClaimLoop: Sendable {
  let core: WorkerCore
  let runners: [String: KindRunner]
  let acknowledger: Acknowledger

  /// Claims and starts jobs until shutdown (or, with `exitWhenIdle`, until nothing is left).
  func run(workerID: Int64, group: inout TaskGroup<Void>) async {
    let configuration = core.configuration
    var turn = 0
    var failures = 0
    while !Task.isCancelled {
      let (free, shuttingDown) = core.state.withLock {
        ($0.freeSlots(concurrency: configuration.concurrency), $0.shuttingDown)
      }
      if shuttingDown { return }
      var claimed = 0
      if free > 0 {
        do {
          claimed = try await claim(workerID: workerID, free: free, turn: turn, group: &group)
          turn += 1
          failures = 0
        } catch {
          if Task.isCancelled { return }
          failures += 1
          core.logger.warning("claim failed; retrying", metadata: ["error": "\(error)"])
          await core.claimWake.wait(timeout: configuration.pollInterval * min(failures, 5))
          continue
        }
      }
      if configuration.exitWhenIdle, claimed == 0, free > 0,
        core.state.withLock({ $0.running.isEmpty })
      {
        core.logger.info("no job available and none running: exiting (--once)")
        return
      }
      // Slots full, or the queues ran dry: wait for a finished job, a notification or the poll.
      if claimed < free || free <= 0 {
        await core.claimWake.wait(timeout: configuration.pollInterval)
      }
    }
  }

  /// One round: up to `free` jobs, from the queues in turn starting at `turn`; returns how many
  /// were claimed (and started in `group`).
  func claim(workerID: Int64, free: Int, turn: Int, group: inout TaskGroup<Void>) async throws
    -> Int
  {
    let queues = core.configuration.queues
    let kinds = runners.keys.sorted()
    let (holding, memoryHeld) = core.state.withLock { ($0.running.count, $0.memoryHeld) }
    var claimed = 0
    var claimedMemory: Int64 = 0
    for offset in 0..<queues.count where claimed < free {
      let queue = queues[(turn + offset) % queues.count]
      // `holding` lets the queue give a suspect (a job with crashes) only to an idle worker, alone;
      // `memoryHeld` keeps what the worker holds plus what it claims within its memory budget.
      let jobs = try await core.driver.claim(
        .init(
          queue: queue, kinds: kinds, limit: free - claimed, workerID: workerID,
          lease: core.configuration.lease, holding: holding + claimed,
          memoryLimit: core.configuration.memoryLimit, memoryHeld: memoryHeld + claimedMemory))
      if jobs.isEmpty { continue }
      claimed += jobs.count
      claimedMemory += jobs.reduce(0) { $0 + $1.memoryBytes }
      start(jobs, group: &group)
      // A suspect runs alone: claim nothing more beside it.
      if jobs.contains(where: { $0.crashCount > 0 }) { break }
    }
    return claimed
  }

  /// Starts claimed jobs: checks their time limits, groups them by kind into chunks (jobs with
  /// the same `groupKey` together), and runs
  /// each chunk as a child task. Jobs that cannot start are acknowledged as dead at once.
  func start(_ jobs: [ClaimedJob], group: inout TaskGroup<Void>) {
    core.observe?(.claimed(jobs))
    let now = ContinuousClock.now
    var byKind: [String: [ClaimedJob]] = [:]
    var timeouts: [Int64: Duration] = [:]
    var invalid: [JobCompletion] = []
    for job in jobs {
      do {
        if let timeout = try JobTimeout.limit(for: job, default: core.configuration.jobTimeout) {
          timeouts[job.id] = timeout
        }
        byKind[job.kind, default: []].append(job)
      } catch {
        invalid.append(JobCompletion(job, .failedPermanently(error: "\(error)")))
      }
    }
    if !invalid.isEmpty { acknowledger.acknowledge(invalid) }
    for (kind, jobsOfKind) in byKind {
      guard let runner = runners[kind] else {
        // The claim filters by kind, so this only happens if the registry changes underneath.
        acknowledger.acknowledge(
          jobsOfKind.map {
            JobCompletion($0, .failedPermanently(error: "no worker runs kind \(kind)"))
          })
        continue
      }
      // Jobs on one image go into one chunk, so its questions share its prefix (`JobChunks`).
      let plan = JobChunks.plan(
        keys: runner.maxBatchSize > 1
          ? jobsOfKind.map(runner.groupKey) : jobsOfKind.map { _ in nil },
        size: runner.maxBatchSize)
      for indices in plan {
        let chunk = indices.map { jobsOfKind[$0] }
        let contexts = chunk.map {
          JobContext(
            jobID: $0.id, queue: $0.queue, attempt: $0.attempt, batchID: $0.batchID,
            timeout: timeouts[$0.id], leaseToken: $0.leaseToken)
        }
        let entries = zip(chunk, contexts).map { job, context in
          RunningJob(
            job: job, context: context, started: now, deadline: context.timeout.map { now + $0 },
            policy: runner.retryPolicy)
        }
        core.state.withLock { $0.start(entries) }
        group.addTask { await self.execute(chunk, contexts: contexts, runner: runner) }
      }
    }
    core.metrics?.setJobsInFlight(core.runningCount)
    if !timeouts.isEmpty { core.timeoutWake.signal() }
  }

  /// Runs one chunk and queues its outcomes.
  func execute(_ jobs: [ClaimedJob], contexts: [JobContext], runner: KindRunner) async {
    let outcomes = await runner.run(jobs, contexts: contexts)
    let finishedAt = ContinuousClock.now
    let finished = core.state.withLock { $0.finish(jobs, outcomes: outcomes, at: finishedAt) }
    for completion in finished.completions {
      core.observe?(.finished(jobID: completion.id, outcome: completion.outcome))
    }
    core.recordFinished(finished.durations)
    core.ackWake.signal()
    core.claimWake.signal()
  }
}
