import TroL
import TrolleyBasics

extension EngineJobSettings {
  /// Runs a kind's jobs as one engine batch: `item` turns each job into an engine request (or
  /// throws the job's failure: a bad payload is that job's problem, not the batch's), `result`
  /// turns each answer into the job's result. One outcome per job, in order.
  func runBatch<Payload, Result>(
    _ batch: [(payload: Payload, context: JobContext)],
    item: (Payload, JobContext) throws -> EngineBatch.Item,
    result: (AnswerResult, EngineBatch.Item) -> Result
  ) async -> [Swift.Result<Result, any Error>] {
    var outcomes = [Swift.Result<Result, any Error>](
      repeating: .failure(JobFailure(.transient, "the engine returned no answer for this job")),
      count: batch.count)
    var items: [EngineBatch.Item] = []
    var positions: [Int] = []
    for (index, job) in batch.enumerated() {
      do {
        items.append(try item(job.payload, job.context))
        positions.append(index)
      } catch {
        outcomes[index] = .failure(error)
      }
    }
    let answers = await self.batch.run(items)
    for (k, index) in positions.enumerated() where k < answers.count {
      outcomes[index] = answers[k].map { result($0, items[k]) }.mapError { $0 }
    }
    return outcomes
  }
}
