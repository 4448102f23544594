/// Every job kind's stable name in the queue, listed once. Enqueue code, the worker's kinds and
/// its `--kinds` validation all read this list.
///
/// Adding a kind: one case here and one file in `Kinds/` with its `JobContract` (payload and
/// result types).
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

  /// Kinds that need a loaded model (`trolley worker --model`).
  public var needsModel: Bool {
    switch self {
    case .trolAnswer, .trolCaption: true
    case .noop, .sleep, .fail, .crash, .curateIngest, .curateDedupe, .curateShard, .trainShard,
      .trainMerge, .trainEval:
      false
    }
  }

  /// Kinds that exercise the queue without a model (`trolley enqueue test`).
  public var isTestKind: Bool {
    switch self {
    case .noop, .sleep, .fail, .crash: true
    case .trolAnswer, .trolCaption, .curateIngest, .curateDedupe, .curateShard, .trainShard,
      .trainMerge, .trainEval:
      false
    }
  }
}
