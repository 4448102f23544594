import Foundation
import JobQueue
import Postgres
import PostgresTesting
import Testing
import TroL
import TrolleyWorkers

/// The gauges a worker keeps current besides job counts: its queues' depth and the engine's
/// decode rate.
struct WorkerMetricsTests {
  /// The value of an unlabelled metric in the exposition, if present.
  static func value(_ name: String, in metrics: WorkerMetrics) -> Double? {
    let text = String(decoding: metrics.exposition(), as: UTF8.self)
    for line in text.split(separator: "\n") where line.hasPrefix(name + " ") {
      return Double(line.dropFirst(name.count + 1))
    }
    return nil
  }

  @Test func queueDepthCountsWaitingJobsOfTheWorkersQueuesOnly() async throws {
    try await withTestDatabase { database in
      let store = JobStore(client: database.client)
      // Kinds this worker does not run: they wait, and are what the gauge must count.
      for _ in 0..<3 { _ = try await store.jobInsert(.init(kind: "elsewhere")) }
      _ = try await store.jobInsert(.init(queue: "other", kind: "elsewhere"))
      let metrics = WorkerMetrics()
      let harness = WorkerHarness(
        store: store, kinds: [KindRunner(NoopJob())],
        configuration: .init(
          pollInterval: .milliseconds(100), queueDepthInterval: .milliseconds(50)),
        metrics: metrics)
      try await harness.running { _ in
        try await eventually("the gauge shows the 3 waiting jobs") {
          Self.value("trolley_queue_depth", in: metrics) == 3
        }
        _ = try await store.jobInsert(.init(kind: "elsewhere"))
        try await eventually("the gauge follows a new job") {
          Self.value("trolley_queue_depth", in: metrics) == 4
        }
      }
    }
  }

  @Test func anEngineBatchRecordsItsDecodeRate() async throws {
    let engine = try #require(AnswerJobTests.engine, "the internlm2 fixture model must load")
    let metrics = WorkerMetrics()
    let batch = EngineBatch(
      engine: engine, fetcher: ImageFetcher(policy: .unrestricted), modelName: "trol-tiny",
      metrics: metrics)
    #expect(Self.value("trolley_engine_tokens_per_second", in: metrics) == 0)
    let options = GenerationOptions(maxNewTokens: 6, stopTokenIDs: [])
    let results = await batch.run([
      .init(image: Fixtures.image("internlm2"), question: "Which shapes?", options: options),
      .init(image: Fixtures.image("internlm2"), question: "Which colours?", options: options),
    ])
    for result in results { #expect(try result.get().tokenIDs.count == 6) }
    #expect((Self.value("trolley_engine_tokens_per_second", in: metrics) ?? 0) > 0)
  }

  /// Polls `condition` every 50 ms for up to 60 s (never asserting on how long it took).
  func eventually(_ what: String, _ condition: @Sendable () async throws -> Bool) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now + .seconds(60)
    while clock.now < deadline {
      if try await condition() { return }
      try await Task.sleep(for: .milliseconds(50))
    }
    Issue.record("timed out waiting until \(what)")
  }
}
