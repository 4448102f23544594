import Foundation
import Training
import TrolleyBasics
public import TrolleyJobContracts

/// `train.shard`: one DiLoCo shard (training.md, "Rounds as queue jobs"). Fetches the round's
/// weights and the shard's AdamW state, runs H inner steps, stores the delta and state under the
/// attempt's fence. A retry restarts from the round's start and writes the same bytes.
public struct TrainShardJob: ContractJobKind {
  public typealias Contract = TrainShard
  let settings: TrainingJobSettings

  public init(settings: TrainingJobSettings) { self.settings = settings }

  public func run(_ payload: Contract.Payload, context: JobContext) async throws -> Contract.Result
  {
    let run = payload.settings
    guard (0..<run.rounds).contains(payload.round), (0..<run.shards).contains(payload.shard)
    else {
      throw JobFailure(
        .invalidPayload,
        "train.shard: round \(payload.round) or shard \(payload.shard) is out of range")
    }
    do {
      let artifacts = settings.artifacts(run)
      let clock = ContinuousClock()
      let fetchStart = clock.now
      let start = try await artifacts.get(
        TrainingJobSettings.startName(run, round: payload.round))
      let previous =
        payload.round == 0
        ? nil
        : try await artifacts.get(
          TrainingArtifactName.state(run.run, round: payload.round - 1, shard: payload.shard))
      var transfer = clock.now - fetchStart
      let dataStart = clock.now
      let samples = try settings.samples(run)
      let dataSeconds = (clock.now - dataStart).seconds
      let computeStart = clock.now
      var step = 0
      let steps = Double(run.innerSteps)
      let output = try settings.withModel(run) { model in
        try DiLoCoRound.shard(
          settings: run, round: payload.round, shard: payload.shard, samples: samples,
          start: start, previousState: previous, model: model,
          shouldStop: {
            try context.checkStop()
            context.reportProgress(Double(step) / steps)
            step += 1
          })
      }
      let compute = clock.now - computeStart
      let storeStart = clock.now
      let fence = context.artifactFence
      let sha = try await artifacts.put(
        TrainingArtifactName.delta(run.run, round: payload.round, shard: payload.shard),
        output.delta, fence: fence)
      try await artifacts.put(
        TrainingArtifactName.state(run.run, round: payload.round, shard: payload.shard),
        output.state, fence: fence)
      transfer += clock.now - storeStart
      return Contract.Result(
        loss: output.losses.reduce(0, +) / Double(max(output.losses.count, 1)),
        losses: output.losses, deltaSHA256: sha,
        computeSeconds: max(0, compute.seconds - output.loadSeconds),
        transferSeconds: transfer.seconds, loadSeconds: dataSeconds + output.loadSeconds)
    } catch {
      throw trainingFailure(error)
    }
  }
}
