import Foundation
import Training
import TrolleyBasics
public import TrolleyJobContracts

/// `train.merge`: round r's outer step (training.md): runs once its K shards succeeded, stores the
/// round's checkpoint (and Nesterov buffer) under the attempt's fence, and drops round r−1's
/// deltas, which no retry can need any more.
public struct TrainMergeJob: ContractJobKind {
  public typealias Contract = TrainMerge
  let settings: TrainingJobSettings

  public init(settings: TrainingJobSettings) { self.settings = settings }

  public func run(_ payload: Contract.Payload, context: JobContext) async throws -> Contract.Result
  {
    let run = payload.settings
    guard (0..<run.rounds).contains(payload.round) else {
      throw JobFailure(.invalidPayload, "train.merge: round \(payload.round) is out of range")
    }
    do {
      let artifacts = settings.artifacts(run)
      let clock = ContinuousClock()
      let begin = clock.now
      let checkpointName = TrainingArtifactName.checkpoint(run.run, round: payload.round)
      // A retry after this round's artifacts were committed (its completion was lost) reuses them:
      // retention may already have pruned the round it started from.
      let committed = try await artifacts.sha256(of: checkpointName)
      var momentumCommitted = true
      if run.outerMomentum != 0 {
        let name = TrainingArtifactName.momentum(run.run, round: payload.round)
        momentumCommitted = try await artifacts.sha256(of: name) != nil
      }
      if let sha = committed, momentumCommitted {
        let stored = try DiLoCoRound.readTensors(try await artifacts.get(checkpointName))
        return Contract.Result(
          checkpointSHA256: sha, deltaNorm: Double(stored.metadata["delta_norm"] ?? "") ?? 0,
          seconds: (clock.now - begin).seconds)
      }
      let start = try await artifacts.get(
        TrainingJobSettings.startName(run, round: payload.round))
      var deltas: [[UInt8]] = []
      for s in 0..<run.shards {
        deltas.append(
          try await artifacts.get(
            TrainingArtifactName.delta(run.run, round: payload.round, shard: s)))
      }
      let momentum =
        payload.round == 0 || run.outerMomentum == 0
        ? nil
        : try await artifacts.get(
          TrainingArtifactName.momentum(run.run, round: payload.round - 1))
      try context.checkStop()
      let output = try DiLoCoRound.merge(
        settings: run, round: payload.round, start: start, deltas: deltas,
        previousMomentum: momentum)
      let fence = context.artifactFence
      let sha = try await artifacts.put(checkpointName, output.checkpoint, fence: fence)
      if let buffer = output.momentum {
        try await artifacts.put(
          TrainingArtifactName.momentum(run.run, round: payload.round), buffer, fence: fence)
      }
      if payload.round > 0 {
        try await artifacts.delete(
          (0..<run.shards).map {
            TrainingArtifactName.delta(run.run, round: payload.round - 1, shard: $0)
          })
      }
      try await settings.prune(run, merged: payload.round, exceptJob: context.jobID)
      return Contract.Result(
        checkpointSHA256: sha, deltaNorm: output.deltaNorm, seconds: (clock.now - begin).seconds)
    } catch {
      throw trainingFailure(error)
    }
  }
}
