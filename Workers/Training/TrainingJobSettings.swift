import Foundation
public import Postgres
import Synchronization
import Training
import TrolleyJobContracts

/// What the `train.*` kinds share in one worker: the database their artifacts live in, and the
/// samples of the data files already read (the vision tower runs once per example per process).
public final class TrainingJobSettings: Sendable {
  public let client: PostgresClient
  private let cache = Mutex<[String: [TrainingSample]]>([:])

  public init(client: PostgresClient) { self.client = client }

  func artifacts(_ settings: TrainingRunSettings) -> TrainingArtifacts {
    TrainingArtifacts(client: client, run: settings.run, directory: settings.artifacts)
  }

  /// The run's samples; a data file that cannot be read fails the job permanently (fix the file,
  /// then `trolley jobs retry`: the file is read again).
  func samples(_ settings: TrainingRunSettings) throws -> [TrainingSample] {
    let key = settings.model + "\n" + settings.data
    if let cached = cache.withLock({ $0[key] }) { return cached }
    let samples: [TrainingSample]
    do {
      let builder = try SampleBuilder(
        modelDirectory: settings.model, trainable: try DiLoCoRound.trainableSet(settings))
      let model = try DiLoCoRound.model(settings)
      samples = try LLaVAData.samples(
        path: settings.data, builder: builder, featureWidth: model.visionFeatureWidth)
    } catch {
      throw JobFailure(.permanent, "training data: \(error)")
    }
    cache.withLock { $0[key] = samples }
    return samples
  }

  /// The weights round r starts from: `RUN/base` for round 0, else round r−1's checkpoint.
  static func startName(_ settings: TrainingRunSettings, round: Int) -> String {
    round == 0
      ? settings.run + "/base" : TrainingArtifactName.checkpoint(settings.run, round: round - 1)
  }
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
