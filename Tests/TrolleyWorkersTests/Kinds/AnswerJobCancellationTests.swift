import Foundation
import JobQueue
import Testing
import TroL
import TrolleyBasics
import TrolleyJobContracts

@testable import TrolleyWorkers

/// A stop request (cancel at a heartbeat, timeout, shutdown) reaches the engine through the job's
/// context: that job's request ends as cancelled, the rest of its engine batch is answered as alone.
@Suite struct AnswerJobCancellationTests {
  private func payload(_ question: String) throws -> AnswerJob.Payload {
    let json = try JSONSerialization.data(withJSONObject: [
      "image": Fixtures.image("internlm2"), "question": question,
    ])
    return try JSONDecoder().decode(AnswerJob.Payload.self, from: json)
  }

  @Test(arguments: [JobContext.StopReason.cancelRequested, .timedOut])
  func aStoppedJobEndsCancelledAndTheOthersAreAnswered(reason: JobContext.StopReason) async throws {
    let engine = try #require(AnswerJobTests.engine, "the internlm2 fixture model must load")
    let settings = EngineJobSettings(
      batch: EngineBatch(
        engine: engine, fetcher: ImageFetcher(policy: .unrestricted), modelName: "trol-tiny"),
      batchSize: 3, maxNewTokens: 8)
    let questions = ["What is in the image?", "Describe the shapes.", "Which colours?"]
    let contexts = (0..<3).map {
      JobContext(jobID: Int64($0), queue: "default", attempt: 1, batchID: nil)
    }
    contexts[1].requestStop(reason)
    let kind = AnswerJob(settings: settings)
    let results = await kind.run(
      batch: try zip(questions, contexts).map { (try payload($0), $1) })
    switch results[1] {
    case .success: Issue.record("the stopped job was answered")
    case .failure(let error):
      let failure = try #require(error as? JobFailure)
      #expect(failure.code == .cancelled)
    }
    for index in [0, 2] {
      let alone = try await AnswerJob(settings: settings).run(
        try payload(questions[index]),
        context: JobContext(jobID: 9, queue: "default", attempt: 1, batchID: nil))
      #expect(try results[index].get().tokens == alone.tokens, "job \(index)")
      #expect(try results[index].get().answer == alone.answer, "job \(index)")
    }
  }

  @Test func engineJobsReportTheirTokensAsProgress() async throws {
    let engine = try #require(AnswerJobTests.engine, "the internlm2 fixture model must load")
    let settings = EngineJobSettings(
      batch: EngineBatch(
        engine: engine, fetcher: ImageFetcher(policy: .unrestricted), modelName: "trol-tiny"),
      batchSize: 1, maxNewTokens: 8)
    let context = JobContext(jobID: 1, queue: "default", attempt: 1, batchID: nil)
    #expect(context.progress == nil)
    let result = try await AnswerJob(settings: settings).run(
      try payload("What is in the image?"), context: context)
    #expect(result.tokens >= 1)
    #expect(context.progress == Double(result.tokens) / 8)
  }

  @Test func aStopHookSetAfterTheStopRunsAtOnce() {
    let context = JobContext(jobID: 1, queue: "default", attempt: 1, batchID: nil)
    let before = context.engineCancellation()
    #expect(!before.isCancelled)
    context.requestStop(.cancelRequested)
    #expect(before.isCancelled)
    #expect(context.engineCancellation().isCancelled)
  }
}
