import JobQueue
import TrolleyBasics

/// A job the worker holds: claimed, leased, and running (or stopping).
struct RunningJob: Sendable {
  var job: ClaimedJob
  var context: JobContext
  var started: ContinuousClock.Instant
  /// When the job times out, if it has a limit.
  var deadline: ContinuousClock.Instant?
  var policy: RetryPolicy
}

/// Everything the worker loop's parts share, as a plain value: which jobs run, which outcomes wait
/// to be written, whether the worker is shutting down. Each event method changes the state and
/// returns what the caller must do next (stop these jobs, write these outcomes); none of them
/// waits or talks to the queue, so they are tested directly (`WorkerStateTests`).
struct WorkerState: Sendable {
  var workerID: Int64?
  var running: [Int64: RunningJob] = [:]
  var pendingAcks: [JobCompletion] = []
  /// Outcomes whose write is running: heartbeats keep covering their leases, so a slow or
  /// retried write never lets them expire and be rescued.
  var inFlightAcks: [Int64: JobCompletion] = [:]
  var shuttingDown = false
  var stopped = false

  /// Slots free for new claims. None while a suspect runs: a job whose lease expired before (it
  /// may have killed its worker) runs alone, so that another crash is charged to it only.
  func freeSlots(concurrency: Int) -> Int {
    running.values.contains { $0.job.crashCount > 0 } ? 0 : concurrency - running.count
  }

  /// The memory the running jobs declare (`memory_bytes`), which a claim must leave room for
  /// within the worker's memory budget.
  var memoryHeld: Int64 {
    running.values.reduce(0) { $0 + $1.job.memoryBytes }
  }

  /// Jobs that started.
  mutating func start(_ jobs: [RunningJob]) {
    for entry in jobs { running[entry.job.id] = entry }
  }

  /// What to report once a batch of jobs returned.
  struct Finished: Sendable {
    /// The outcomes to write (already queued in `pendingAcks`).
    var completions: [JobCompletion] = []
    /// Per job: kind, outcome label, seconds run (for metrics).
    var durations: [(kind: String, outcome: String, seconds: Double)] = []
  }

  /// Jobs returned `outcomes`: their slots are free and their outcomes queued for writing. Jobs
  /// already handed back (shutdown) or whose lease was lost report nothing.
  mutating func finish(
    _ jobs: [ClaimedJob], outcomes: [JobOutcome], at finishedAt: ContinuousClock.Instant
  ) -> Finished {
    var finished = Finished()
    for (job, outcome) in zip(jobs, outcomes) {
      // Gone when it was handed back at shutdown: that report already went out.
      guard let entry = running.removeValue(forKey: job.id) else { continue }
      if entry.context.stopReason == .leaseLost { continue }
      let completion = JobCompletion(job, outcome)
      finished.completions.append(completion)
      finished.durations.append(
        (job.kind, Self.label(outcome), entry.started.duration(to: finishedAt).seconds))
    }
    pendingAcks += finished.completions
    return finished
  }

  /// Takes up to `limit` pending outcomes, oldest first, for one write.
  mutating func takeAcks(limit: Int) -> [JobCompletion] {
    let taken = Array(pendingAcks.prefix(limit))
    pendingAcks.removeFirst(taken.count)
    for completion in taken { inFlightAcks[completion.id] = completion }
    return taken
  }

  /// Outcomes whose write ended (applied or rejected): their leases need no more cover.
  mutating func ackWritten(_ batch: [JobCompletion]) {
    for completion in batch { inFlightAcks.removeValue(forKey: completion.id) }
  }

  /// Puts back outcomes whose write failed, ahead of newer ones.
  mutating func returnAcks(_ batch: [JobCompletion]) {
    ackWritten(batch)
    pendingAcks.insert(contentsOf: batch, at: 0)
  }

  /// The leases to extend: every running job (with its progress) and every outcome not yet
  /// written, pending or being written (its lease must outlive the write).
  func heartbeatEntries() -> [JobHeartbeatParams.Entry] {
    running.values.map {
      JobHeartbeatParams.Entry(
        id: $0.job.id, leaseToken: $0.job.leaseToken, progress: $0.context.progress)
    }
      + (pendingAcks + inFlightAcks.values).map {
        JobHeartbeatParams.Entry(id: $0.id, leaseToken: $0.leaseToken)
      }
  }

  /// The running jobs a heartbeat says to stop: cancelled by an operator, or whose lease is lost.
  func stops(after result: JobHeartbeatResult) -> (cancel: [JobContext], lost: [JobContext]) {
    (
      cancel: result.cancelRequested.compactMap { running[$0]?.context },
      lost: result.lost.compactMap { running[$0]?.context }
    )
  }

  /// What the timeout watch must do now.
  struct TimeoutCheck: Sendable {
    /// Jobs past their deadline: ask them to stop.
    var expired: [JobContext] = []
    /// Timed-out jobs that did not stop within the grace period: already removed from `running`;
    /// record their timeout.
    var abandoned: [RunningJob] = []
    /// When to look again (nil: no job has a deadline).
    var next: ContinuousClock.Instant?
  }

  /// Finds jobs past their deadline, and timed-out jobs past their grace period (freeing their
  /// slots).
  mutating func checkTimeouts(now: ContinuousClock.Instant, grace: Duration) -> TimeoutCheck {
    var check = TimeoutCheck()
    func lookAgain(at instant: ContinuousClock.Instant) {
      check.next = min(check.next ?? instant, instant)
    }
    for (id, entry) in running {
      guard let deadline = entry.deadline else { continue }
      let reason = entry.context.stopReason
      if deadline > now {
        if reason == nil { lookAgain(at: deadline) }
      } else if reason == nil {
        check.expired.append(entry.context)
        lookAgain(at: deadline + grace)
      } else if reason == .timedOut {
        if deadline + grace <= now {
          check.abandoned.append(entry)
          running.removeValue(forKey: id)
        } else {
          lookAgain(at: deadline + grace)
        }
      }
    }
    return check
  }

  /// Removes every running job, to hand it back.
  mutating func takeAllRunning() -> [RunningJob] {
    defer { running.removeAll() }
    return Array(running.values)
  }

  /// Marks the worker stopped; true if it already was (the stop record goes out once).
  mutating func markStopped() -> Bool {
    defer { stopped = true }
    return stopped
  }

  /// The metrics label of an outcome.
  static func label(_ outcome: JobOutcome) -> String {
    switch outcome {
    case .succeeded: "succeeded"
    case .failed: "retrying"
    case .failedPermanently: "dead"
    case .cancelled: "cancelled"
    case .handedBack: "handed_back"
    }
  }
}
