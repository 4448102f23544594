import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// How a worker claims, leases, acknowledges and shuts down.
public struct WorkerConfiguration: Sendable {
  /// Acknowledgements are flushed once this many are pending. Default 500.
  public var ackBatchSize: Int
  /// The longest an acknowledgement waits for others to share its statement. Default 2 ms.
  public var ackDelay: Duration
  /// Jobs run at once (the claim size when idle). Default 1.
  public var concurrency: Int
  /// Exit once no job is available and none is running (`trolley worker --once`, for scripts).
  /// Default false: wait for more work.
  public var exitWhenIdle: Bool
  /// After SIGTERM, how long running jobs may take to finish before they are handed back.
  /// Default 60 s.
  public var gracePeriod: Duration
  /// How often leases are extended (and progress sent). Default 10 s; at most half the lease.
  public var heartbeatInterval: Duration
  /// Recorded in the workers registry. Default: this machine's host name.
  public var host: String
  /// How long one job may run (from its claim) before it is asked to stop and fails with a
  /// retryable "timed out after N s"; a payload's `timeout_seconds` overrides it. Default nil:
  /// no limit.
  public var jobTimeout: Duration?
  /// How long a timed-out job gets to stop before the worker records the timeout anyway and frees
  /// its slot (a kind that never checks for a stop keeps its thread, not its slot). Default 10 s.
  public var timeoutGrace: Duration
  /// How long a claimed job's lease lasts without a heartbeat. Default 30 s: a crashed worker's
  /// jobs are back in play within about this long.
  public var lease: Duration
  /// Recorded in the workers registry. Default: this process's id.
  public var pid: Int32
  /// How often an idle worker looks for work without a notification. Default 1 s.
  public var pollInterval: Duration
  /// Poll only, never LISTEN (for connection poolers in transaction mode). Default false.
  public var pollOnly: Bool
  /// With metrics, how often the queue depth gauge is refreshed (a count over the unfinished
  /// jobs, so not on every heartbeat). Default 30 s.
  public var queueDepthInterval: Duration
  /// The queues to claim from, in turn. Default ["default"].
  public var queues: [String]
  /// Recorded in the workers registry.
  public var version: String
  /// Bytes of memory the jobs this worker holds may use together (`--memory-limit`, else the
  /// cgroup limit or MemAvailable): the declared `memory_bytes` of the jobs it holds plus those it
  /// claims stay within it, so a job that does not fit beside the running ones waits.
  public var memoryLimit: Int64?

  public init(
    ackBatchSize: Int = 500, ackDelay: Duration = .milliseconds(2), concurrency: Int = 1,
    gracePeriod: Duration = .seconds(60), heartbeatInterval: Duration = .seconds(10),
    host: String? = nil, lease: Duration = .seconds(30),
    pid: Int32? = nil, pollInterval: Duration = .seconds(1), pollOnly: Bool = false,
    queues: [String] = ["default"], version: String = "0.1.0", exitWhenIdle: Bool = false,
    jobTimeout: Duration? = nil, timeoutGrace: Duration = .seconds(10),
    queueDepthInterval: Duration = .seconds(30), memoryLimit: Int64? = nil
  ) {
    self.memoryLimit = memoryLimit
    precondition(ackBatchSize >= 1, "ackBatchSize must be at least 1")
    precondition(ackDelay >= .zero, "ackDelay must not be negative")
    precondition(concurrency >= 1, "concurrency must be at least 1")
    precondition(gracePeriod >= .zero, "gracePeriod must not be negative")
    precondition(lease > .zero, "lease must be positive")
    precondition(
      heartbeatInterval > .zero && heartbeatInterval * 2 <= lease,
      "heartbeatInterval must be positive and at most half the lease")
    precondition(pollInterval > .zero, "pollInterval must be positive")
    precondition(!queues.isEmpty, "a worker needs at least one queue")
    precondition(jobTimeout.map { $0 > .zero } ?? true, "jobTimeout must be positive")
    precondition(timeoutGrace >= .zero, "timeoutGrace must not be negative")
    precondition(queueDepthInterval > .zero, "queueDepthInterval must be positive")
    self.ackBatchSize = ackBatchSize
    self.ackDelay = ackDelay
    self.concurrency = concurrency
    self.exitWhenIdle = exitWhenIdle
    self.gracePeriod = gracePeriod
    self.heartbeatInterval = heartbeatInterval
    self.host = host ?? ProcessInfo.processInfo.hostName
    self.jobTimeout = jobTimeout
    self.timeoutGrace = timeoutGrace
    self.lease = lease
    self.pid = pid ?? getpid()
    self.pollInterval = pollInterval
    self.pollOnly = pollOnly
    self.queueDepthInterval = queueDepthInterval
    self.queues = queues
    self.version = version
  }
}
