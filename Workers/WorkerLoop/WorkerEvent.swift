public import JobQueue

/// What a worker loop did, reported to an observer (tests await these instead of sleeping).
public enum WorkerEvent: Sendable {
  /// Registered in the workers registry with this id.
  case registered(workerID: Int64)
  /// Claimed these jobs.
  case claimed([ClaimedJob])
  /// A job's run ended with this outcome (acknowledged later, in a batch).
  case finished(jobID: Int64, outcome: JobOutcome)
  /// A batch of acknowledgements was written.
  case acknowledged(JobCompleteManyResult)
  /// A heartbeat was written.
  case heartbeat(JobHeartbeatResult)
  /// Running jobs were handed back at shutdown.
  case handedBack([Int64])
  /// The loop stopped and marked the worker stopped.
  case stopped
}
