/// Every job kind's stable name in the queue, listed once. Enqueue code, the worker's kinds and
/// its `--kinds` validation all read this list.
///
/// Adding a kind: one case here (and its line in `family`) and one file in `Kinds/` with its
/// `JobContract` (payload and result types).
public enum JobKindName: String, Sendable, Hashable, CaseIterable {
  /// Image + question -> answer, through TroL (`TrolAnswer`).
  case trolAnswer = "trol.answer"
  /// Image -> caption, through TroL (`TrolCaption`).
  case trolCaption = "trol.caption"
  /// Does nothing and succeeds: measures the queue (`NoopContract`).
  case noop
  /// Sleeps, reporting progress (`SleepContract`).
  case sleep
  /// Fails retryably or permanently (`FailContract`).
  case fail
  /// Kills its worker process (`CrashContract`).
  case crash
  /// Reads, decodes, hashes and filters one chunk of a dataset's items (`CurateIngestContract`).
  case curateIngest = "curate.ingest"
  /// Exact and near duplicate groups of one dataset (`CurateDedupeContract`).
  case curateDedupe = "curate.dedupe"
  /// One WebDataset tar shard of a dataset's kept items (`CurateShardContract`).
  case curateShard = "curate.shard"
  /// One DiLoCo shard: H inner steps from a round's weights (`TrainShard`).
  case trainShard = "train.shard"
  /// A round's outer step over its shards' deltas (`TrainMerge`).
  case trainMerge = "train.merge"
  /// Held-out loss and exact match of a round's checkpoint (`TrainEval`).
  case trainEval = "train.eval"

  /// What a kind belongs to, which decides what a worker needs to run it.
  public enum Family: Sendable, Hashable {
    /// Answered by the TroL engine: the worker needs `--model`.
    case trol
    /// Exercises the queue without a model (`trolley enqueue test`).
    case test
    /// Works on a dataset: the worker needs its database connection.
    case curation
    /// One step of a distributed training run.
    case training
  }

  /// The kind's family; every kind is listed here once.
  public var family: Family {
    switch self {
    case .trolAnswer, .trolCaption: .trol
    case .noop, .sleep, .fail, .crash: .test
    case .curateIngest, .curateDedupe, .curateShard: .curation
    case .trainShard, .trainMerge, .trainEval: .training
    }
  }

  /// Kinds that need a loaded model (`trolley worker --model`).
  public var needsModel: Bool { family == .trol }

  /// Kinds that exercise the queue without a model (`trolley enqueue test`).
  public var isTestKind: Bool { family == .test }

  /// The names of a family's kinds, in declaration order.
  public static func names(_ family: Family) -> [String] {
    allCases.filter { $0.family == family }.map(\.rawValue)
  }
}
