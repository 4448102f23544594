/// Everything `trolley top` shows at one moment; filled from the queue, rendered by `TopScreen`.
///
/// `TopSource` builds the queue, worker, failure and training-run rows with their memberwise
/// initializers; only the dataset rows, which the `trolley top` command builds, need public ones.
public struct TopSnapshot: Sendable, Equatable {
  /// One queue's state.
  public struct Queue: Sendable, Equatable, Encodable {
    public var name: String
    public var paused: Bool
    public var available: Int64
    public var running: Int64
    /// Scheduled, retrying and dependency-waiting jobs (not claimable yet).
    public var waiting: Int64
  }

  /// One registered worker process.
  public struct Worker: Sendable, Equatable, Encodable {
    public var host: String
    public var pid: Int64
    public var currentJobs: Int64
    public var capacity: Int64
    public var heartbeatAgeSeconds: Double
    public var stale: Bool
    /// Attempts it ended per minute over the last few minutes.
    public var jobsPerMinute: Double
  }

  /// One recently failed job.
  public struct Failure: Sendable, Equatable, Encodable {
    public var jobID: Int64
    public var kind: String
    public var ageSeconds: Double
    public var error: String
  }

  /// One dataset's curation progress: jobs done of planned per stage, items by status.
  public struct Dataset: Sendable, Equatable, Encodable {
    public struct Stage: Sendable, Equatable, Encodable {
      public var name: String
      public var done: Int
      public var total: Int
      public var failed: Int
      public init(name: String, done: Int, total: Int, failed: Int) {
        self.name = name
        self.done = done
        self.total = total
        self.failed = failed
      }
    }
    public var name: String
    public var items: Int
    public var stages: [Stage]
    /// Items per status (pending, ok, duplicate, filtered, bad), in that order, zeros left out.
    public var statuses: [(status: String, count: Int)]

    public init(name: String, items: Int, stages: [Stage], statuses: [(status: String, count: Int)])
    {
      self.name = name
      self.items = items
      self.stages = stages
      self.statuses = statuses
    }

    public static func == (a: Dataset, b: Dataset) -> Bool {
      a.name == b.name && a.items == b.items && a.stages == b.stages
        && a.statuses.map(\.status) == b.statuses.map(\.status)
        && a.statuses.map(\.count) == b.statuses.map(\.count)
    }

    enum CodingKeys: String, CodingKey { case name, items, stages, statuses }

    public func encode(to encoder: any Encoder) throws {
      var c = encoder.container(keyedBy: CodingKeys.self)
      try c.encode(name, forKey: .name)
      try c.encode(items, forKey: .items)
      try c.encode(stages, forKey: .stages)
      var counts: [String: Int] = [:]
      for entry in statuses { counts[entry.status] = entry.count }
      try c.encode(counts, forKey: .statuses)
    }
  }

  /// One training run with unfinished jobs (docs/training-runs.md).
  public struct TrainingRun: Sendable, Equatable {
    public var name: String
    /// The round in play, 0-based (the first whose merge has not succeeded).
    public var round: Int
    public var rounds: Int
    /// Shards of that round that succeeded, of `shards`.
    public var shardsDone: Int
    public var shards: Int
    /// Mean shard training loss of the last merged round (nil before the first merge).
    public var lastLoss: Double?
    /// Jobs of the run that ended dead (the run stopped; `trolley train show` says why).
    public var dead: Int
  }

  public var time: Double
  public var queues: [Queue]
  public var batches: [BatchSummary]
  public var workers: [Worker]
  public var failures: [Failure]
  /// The newest datasets (empty: the section is not drawn).
  public var datasets: [Dataset]
  /// Training runs still in play; their section appears only when there is one.
  public var trainingRuns: [TrainingRun]

  public init(
    time: Double, queues: [Queue], batches: [BatchSummary], workers: [Worker], failures: [Failure],
    trainingRuns: [TrainingRun] = [], datasets: [Dataset] = []
  ) {
    self.trainingRuns = trainingRuns
    self.time = time
    self.queues = queues
    self.batches = batches
    self.workers = workers
    self.failures = failures
    self.datasets = datasets
  }
}
