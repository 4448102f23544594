public import TrolleyBasics

/// An error from the job queue: a lost lease, an unknown job or batch, a bad request.
///
/// Its message names the job, batch or queue, never payloads or connection strings. Database
/// failures surface as the Postgres module's `PostgresError`.
public typealias JobQueueError = CodedError<JobQueueErrorCode>

/// What went wrong in the job queue (`JobQueueError.Code`).
public enum JobQueueErrorCode: String, ErrorCode {
  /// The caller's lease on the job was taken over (expired and rescued, cancelled, or the job
  /// finished): the write was rejected and changed nothing. Stop working on the job.
  case leaseLost
  /// No job has that id (it may have been pruned).
  case jobNotFound
  /// No batch has that id or name.
  case batchNotFound
  /// A request's parameters are inconsistent or out of range.
  case invalidRequest
  /// A job was enqueued depending on a job id that does not exist.
  case dependencyNotFound
  /// The job is not in a state the operation applies to.
  case invalidState
}
