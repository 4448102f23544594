/// Every event that moves a job, and the pure rule deciding where it goes.
///
/// This is the state table of docs/queue.md as code: `JobTransition.target(from:)` returns the
/// next state, or nil when the event does not apply to a job in that state (the store's SQL guards
/// the same way, so a rejected event changes nothing). The store's statements implement exactly
/// these edges; `JobStateTransitionTests` walks each of them against PostgreSQL.
public enum JobTransition: Sendable, Hashable, CaseIterable {
  /// A new job with no unfinished dependencies and `run_at` now or past.
  case enqueueReady
  /// A new job with `run_at` in the future.
  case enqueueScheduled
  /// A new job with at least one dependency not yet succeeded.
  case enqueueWaiting
  /// A new job with a dependency that already ended dead or cancelled.
  case enqueueDependencyFailed
  /// The scheduler found `run_at` passed.
  case promote
  /// A worker claimed the job.
  case claim
  /// The lease holder reported success.
  case complete
  /// The lease holder reported a retryable error and the error budget has room.
  case failRetryable
  /// The lease holder reported a permanent error, or a retryable one that spent the error budget.
  case failFinal
  /// The lease holder stopped the job after a cancel request.
  case acknowledgeCancel
  /// The worker is shutting down and returns the job unfinished (no budget is charged).
  case handBack
  /// The lease expired and the crash budget has room.
  case rescue
  /// The lease expired and the crash budget is spent: the job is quarantined.
  case rescueQuarantine
  /// The lease expired on a job whose cancel had been requested.
  case rescueCancelled
  /// An operator cancelled the job before it ran.
  case cancel
  /// The last dependency succeeded (and `run_at` has passed).
  case dependenciesSucceeded
  /// The last dependency succeeded before the job's `run_at`: it waits for its start time.
  case dependenciesSucceededEarly
  /// A dependency ended dead or cancelled.
  case dependencyFailed
  /// An operator retried a dead job.
  case retry
  /// A dependency whose end had cancelled this job was retried: the job waits for it again.
  case dependencyRetried

  /// The state a job in `state` moves to on this event, or nil when the event does not apply.
  /// Enqueue events apply to a job that does not exist yet: pass `nil` as `state`.
  public func target(from state: JobState?) -> JobState? {
    switch (self, state) {
    case (.enqueueReady, nil): .available
    case (.enqueueScheduled, nil): .scheduled
    case (.enqueueWaiting, nil): .waiting
    case (.enqueueDependencyFailed, nil): .cancelled
    case (.promote, .scheduled?), (.promote, .retrying?): .available
    case (.claim, .available?): .running
    case (.complete, .running?): .succeeded
    case (.failRetryable, .running?): .retrying
    case (.failFinal, .running?): .dead
    case (.acknowledgeCancel, .running?): .cancelled
    case (.handBack, .running?): .available
    case (.rescue, .running?): .available
    case (.rescueQuarantine, .running?): .dead
    case (.rescueCancelled, .running?): .cancelled
    case (.cancel, let from?) where JobState.queued.contains(from): .cancelled
    case (.dependenciesSucceeded, .waiting?): .available
    case (.dependenciesSucceededEarly, .waiting?): .scheduled
    case (.dependencyFailed, .waiting?): .cancelled
    case (.retry, .dead?): .available
    case (.dependencyRetried, .cancelled?): .waiting
    default: nil
    }
  }

  /// Every (from, event, to) edge of the state table, in the order docs/queue.md lists them.
  public static var edges: [(from: JobState?, event: JobTransition, to: JobState)] {
    let origins: [JobState?] = [nil] + JobState.allCases.map { Optional($0) }
    return allCases.flatMap { event in
      origins.compactMap { from in event.target(from: from).map { (from, event, $0) } }
    }
  }
}
