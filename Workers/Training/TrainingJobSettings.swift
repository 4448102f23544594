import Foundation
public import Postgres
import Synchronization
import Training
import TrolleyBasics
import TrolleyJobContracts

/// What the `train.*` kinds share in one worker: the database their artifacts live in, and the
/// samples of the data files already read (the vision tower runs once per example per process).
public final class TrainingJobSettings: Sendable {
  public let client: PostgresClient
  private let cache = Mutex<
    [String: (examples: [LLaVAData.Example], samples: [TrainingSample])]
  >([:])

  /// Loaded training models not in use, by what they were loaded for: a shard overwrites every
  /// trainable tensor (and the AdamW state) from its round's artifacts and never changes the
  /// frozen ones, so the next shard of the run reuses the model instead of reading the base again.
  private let idleModels = Mutex<[String: [TrainingModel<Float>]]>([:])

  public init(client: PostgresClient) { self.client = client }

  /// Runs `body` with a model of `settings` held by this caller alone; it goes back to the idle
  /// list when `body` returns normally (a model a failure left half-written is dropped).
  func withModel<R>(_ settings: TrainingRunSettings, _ body: (TrainingModel<Float>) throws -> R)
    throws -> R
  {
    let key = [
      settings.model, settings.trainable, String(settings.loraRank),
      String(settings.loraAlpha), String(settings.seed),
    ].joined(separator: "\n")
    let model = try idleModels.withLock({ $0[key]?.popLast() }) ?? DiLoCoRound.model(settings)
    let result = try body(model)
    idleModels.withLock { $0[key, default: []].append(model) }
    return result
  }

  func artifacts(_ settings: TrainingRunSettings) -> TrainingArtifacts {
    TrainingArtifacts(client: client, run: settings.run, directory: settings.artifacts)
  }

  /// The run's training samples (without the held-out split when `--eval-fraction` names one);
  /// a data file that cannot be read fails the job permanently (fix the file, then `trolley jobs
  /// retry`: the file is read again).
  func samples(_ settings: TrainingRunSettings) throws -> [TrainingSample] {
    let fraction = settings.eval == nil ? settings.evalFraction ?? 0 : 0
    return try cachedSamples(settings, path: settings.data, key: "train \(fraction)") {
      fraction > 0 ? $0.filter { !LLaVAData.isHeldOut(id: $0.id, fraction: fraction) } : $0
    }.samples
  }

  /// The run's held-out examples and their samples: the `--eval` file, or the `--eval-fraction`
  /// of the data.
  func evalSet(_ settings: TrainingRunSettings) throws -> (
    examples: [LLaVAData.Example], samples: [TrainingSample]
  ) {
    if let file = settings.eval {
      return try cachedSamples(settings, path: file, key: "eval") { $0 }
    }
    let fraction = settings.evalFraction ?? 0
    return try cachedSamples(settings, path: settings.data, key: "held out \(fraction)") {
      $0.filter { LLaVAData.isHeldOut(id: $0.id, fraction: fraction) }
    }
  }

  private func cachedSamples(
    _ settings: TrainingRunSettings, path: String, key: String,
    select: ([LLaVAData.Example]) -> [LLaVAData.Example]
  ) throws -> (examples: [LLaVAData.Example], samples: [TrainingSample]) {
    let key = settings.model + "\n" + path + "\n" + key
    if let cached = cache.withLock({ $0[key] }) { return cached }
    let entry: (examples: [LLaVAData.Example], samples: [TrainingSample])
    do {
      let builder = try SampleBuilder(
        modelDirectory: settings.model, trainable: try DiLoCoRound.trainableSet(settings))
      let model = try DiLoCoRound.model(settings)
      let examples = select(try LLaVAData.examples(path: path))
      entry = (
        examples,
        try LLaVAData.samples(
          of: examples, path: path, builder: builder, featureWidth: model.visionFeatureWidth,
          turns: settings.trainingTurns)
      )
    } catch {
      throw JobFailure(.permanent, "training data: \(error)")
    }
    cache.withLock { $0[key] = entry }
    return entry
  }

  /// Retention (`train start --keep-rounds N`): deletes the checkpoints, Nesterov buffers and
  /// AdamW states of every round older than the last N merged ones (`merged` is the caller's
  /// round when its merge is not committed yet), except rounds `train export` wrote and rounds
  /// whose `train.eval` (other than `exceptJob`) has yet to finish. `RUN/base` stays.
  func prune(_ run: TrainingRunSettings, merged: Int, exceptJob: Int64) async throws {
    guard let keep = run.keepRounds, keep >= 1 else { return }
    let rows = try await client.query(
      """
      WITH t AS (SELECT batch_id, exported_rounds FROM training_runs WHERE name = $1),
      latest AS (
        SELECT greatest($2::int, max((j.payload->>'round')::int)) AS r
        FROM jobs j, t
        WHERE j.batch_id = t.batch_id AND j.kind = 'train.merge' AND j.state = 'succeeded')
      SELECT q FROM t, latest, generate_series(0, latest.r - $3::int) q
      WHERE NOT (q = ANY(t.exported_rounds))
        AND NOT EXISTS (
          SELECT 1 FROM jobs e
          WHERE e.batch_id = t.batch_id AND e.kind = 'train.eval' AND e.id <> $4
            AND (e.payload->>'round')::int = q
            AND e.state NOT IN ('succeeded', 'dead', 'cancelled'))
      """, [run.run, Int32(merged), Int32(keep), exceptJob])
    var names: [String] = []
    for row in rows {
      let q = Int(try row.decode(0, as: Int32.self))
      names.append(TrainingArtifactName.checkpoint(run.run, round: q))
      names.append(TrainingArtifactName.momentum(run.run, round: q))
      for s in 0..<run.shards {
        names.append(TrainingArtifactName.state(run.run, round: q, shard: s))
      }
    }
    try await artifacts(run).delete(names)
  }

  /// The weights round r starts from: `RUN/base` for round 0, else round r−1's checkpoint.
  static func startName(_ settings: TrainingRunSettings, round: Int) -> String {
    round == 0
      ? settings.run + "/base" : TrainingArtifactName.checkpoint(settings.run, round: round - 1)
  }
}

extension TrainingRunSettings {
  /// The run's `--turns` (runs recorded before it existed: the first question only).
  var trainingTurns: TrainingTurns { turns.flatMap(TrainingTurns.init(rawValue:)) ?? .first }
}

extension JobContext {
  /// The fence for artifacts this attempt writes.
  var artifactFence: TrainingArtifacts.Fence? {
    leaseToken.map { TrainingArtifacts.Fence(jobID: jobID, leaseToken: $0) }
  }
}

/// Maps artifact errors to the queue's outcomes: a conflict or a bad checksum cannot be fixed by a
/// retry (the run stops); a lost lease means this attempt's work no longer counts.
func trainingFailure(_ error: any Error) -> any Error {
  guard let error = error as? TrainingArtifactError else { return error }
  switch error.code {
  case .conflict, .checksumMismatch: return JobFailure(.permanent, error.message)
  case .fenced: return JobFailure(.cancelled, error.message)
  case .missing: return JobFailure(.permanent, error.message)
  }
}
