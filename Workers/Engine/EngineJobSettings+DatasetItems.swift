import Datasets
import TroL
import TrolleyBasics

extension EngineJobSettings {
  /// Writes each succeeded job's text into the dataset item its payload names (`dataset_item`,
  /// from `trolley dataset caption`) before the job is acknowledged. The writes are idempotent
  /// (the same caption again, or an answer only into an unanswered entry), so a worker killed
  /// between the write and the acknowledgement leaves nothing wrong for the retry. A failed
  /// write fails its job, retryably.
  func writeBack<Payload, Result>(
    _ outcomes: [Swift.Result<Result, any Error>],
    _ batch: [(payload: Payload, context: JobContext)],
    item: (Payload) -> Int64?,
    write: (DatasetStore, Int64, Payload, Result) async throws -> Void
  ) async -> [Swift.Result<Result, any Error>] {
    var outcomes = outcomes
    for index in outcomes.indices where index < batch.count {
      guard case .success(let result) = outcomes[index], let id = item(batch[index].payload)
      else { continue }
      guard let store = datasetItems else {
        outcomes[index] = .failure(
          JobFailure(.transient, "this worker has no database access to write dataset item \(id)"))
        continue
      }
      do {
        try await write(store, id, batch[index].payload, result)
      } catch {
        outcomes[index] = .failure(
          JobFailure(.transient, "writing the text into dataset item \(id) failed: \(error)"))
      }
    }
    return outcomes
  }
}
