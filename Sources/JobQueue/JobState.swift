/// The closed set of states a job can be in. The migration declares the same values as the
/// PostgreSQL enum `job_state`; docs/queue.md lists every edge between them, and `JobTransition`
/// encodes those edges as a pure function.
public enum JobState: String, CaseIterable, Sendable, Codable, Hashable {
  /// Enqueued with dependencies that have not all succeeded. Leaves for `available` when the
  /// last dependency succeeds (`JobStore.jobComplete`), or for `cancelled` when one ends dead or
  /// cancelled, or by an operator's cancel.
  case waiting
  /// Enqueued with `run_at` in the future. The `Scheduler` service moves it to `available` once
  /// `run_at` has passed; an operator's cancel moves it to `cancelled`.
  case scheduled
  /// Ready to run. A worker's claim moves it to `running`; an operator's cancel to `cancelled`.
  case available
  /// Claimed by a worker that holds its lease (owner, fencing token, expiry) and heartbeats.
  /// Leaves by the lease holder's completion (`succeeded`), failure (`retrying` or `dead`),
  /// cancel acknowledgement (`cancelled`) or hand-back at shutdown (`available`), or by the
  /// `Rescuer` once the lease expired (`available`, or `dead` when the crash budget is spent).
  case running
  /// Failed with a retryable error and has error budget left. The `Scheduler` moves it to
  /// `available` when its backoff (`run_at`) has passed; an operator's cancel to `cancelled`.
  case retrying
  /// Finished with a result. Terminal; the `RetentionCleaner` deletes it after its retention age.
  case succeeded
  /// Failed for good: a permanent error, the error budget spent, or quarantined after crashing
  /// its worker `max_crashes` times. Terminal until an operator retries it (back to `available`);
  /// the `RetentionCleaner` deletes it after its retention age.
  case dead
  /// Cancelled by an operator, or because a dependency ended dead or cancelled. Terminal; the
  /// `RetentionCleaner` deletes it after its retention age.
  case cancelled

  /// States no job leaves by itself: `succeeded`, `dead`, `cancelled`.
  public static let terminal: Set<JobState> = [.succeeded, .dead, .cancelled]

  /// States of a job that has not finished and is not running: it still waits for something.
  public static let queued: Set<JobState> = [.waiting, .scheduled, .available, .retrying]

  /// Whether this state is terminal (`finished_at` is set exactly in these states).
  public var isTerminal: Bool { Self.terminal.contains(self) }
}
