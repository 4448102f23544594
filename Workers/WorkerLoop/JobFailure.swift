public import TrolleyBasics

/// How a job kind says a job failed; the code decides what the queue does next.
///
/// Any other error a kind throws counts as `.transient`. The message is stored as the job's last
/// error: it must not quote payloads or results.
public typealias JobFailure = CodedError<JobFailureCode>

/// What the queue does with a failed job (`JobFailure.Code`).
public enum JobFailureCode: String, ErrorCode {
  /// Might work next time (a timeout, a busy resource): retried with backoff while the error
  /// budget lasts.
  case transient
  /// The payload cannot be decoded or is out of range: dead at once.
  case invalidPayload
  /// No retry can fix it (a missing image, an unsupported format): dead at once.
  case permanent
  /// The job stopped because it was asked to (cancel request, lease lost, shutdown).
  case cancelled
}
