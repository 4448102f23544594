import JobQueue
import TrolleyBasics
import TrolleyJobContracts

/// Every job kind this worker binary can run, listed once (like a command's subcommands).
public enum AllKinds {
  /// The kinds that exercise the queue without a model.
  public static let test: [any JobKind] = [NoopJob(), SleepJob(), FailJob(), CrashJob()]

  /// Every kind that needs no model, by name.
  public static var all: [any JobKind] { test }

  /// The TroL kinds, sharing one loaded engine.
  public static func trol(_ settings: EngineJobSettings) -> [any JobKind] {
    [AnswerJob(settings: settings), CaptionJob(settings: settings)]
  }

  /// The training kinds, sharing the worker's database connections.
  public static func training(_ settings: TrainingJobSettings) -> [any JobKind] {
    [
      TrainShardJob(settings: settings), TrainMergeJob(settings: settings),
      TrainEvalJob(settings: settings),
    ]
  }

  /// The names of the training kinds (`--kinds train.shard,train.merge,train.eval`).
  public static let trainingNames = JobKindName.names(.training)

  /// The names of the TroL kinds (available when the worker is given `--model`).
  public static let trolNames = JobKindName.names(.trol)

  /// The curation kinds, sharing one dataset store and fetch policy.
  public static func curation(_ settings: CurationJobSettings) -> [any JobKind] {
    [
      CurateIngestJob(settings: settings), CurateDedupeJob(settings: settings),
      CurateShardJob(settings: settings),
    ]
  }

  /// The names of the curation kinds (they need the worker's database connection).
  public static let curationNames = JobKindName.names(.curation)

  /// The names of every kind.
  public static var names: [String] { all.map { type(of: $0).name } }

  /// The kinds with these names.
  /// - Throws: `JobQueueError.Code.invalidRequest` naming an unknown kind and the known ones.
  public static func named(
    _ names: [String], engine: EngineJobSettings? = nil, curation: CurationJobSettings? = nil,
    training: TrainingJobSettings? = nil
  ) throws -> [any JobKind] {
    let available =
      all + (engine.map(trol) ?? []) + (curation.map(Self.curation) ?? [])
      + (training.map(Self.training) ?? [])
    return try names.map { name in
      guard let kind = available.first(where: { type(of: $0).name == name }) else {
        if engine == nil, trolNames.contains(name) {
          throw JobQueueError(
            .invalidRequest,
            "job kind \(name) needs a model: pass --model DIR (a TroL checkpoint folder, or one made by `trolley model synth --like tiny --out DIR`)"
          )
        }
        throw JobQueueError(
          .invalidRequest,
          "Unknown job kind \(name); known kinds: \((Self.names + trolNames + curationNames + trainingNames).joined(separator: ", "))"
        )
      }
      return kind
    }
  }
}
