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
  /// The value of a metric (with its labels, as the exposition writes them), if present.
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
          Self.value(#"trolley_queue_depth{queue="default"}"#, in: metrics) == 3
        }
        _ = try await store.jobInsert(.init(kind: "elsewhere"))
        try await eventually("the gauge follows a new job") {
          Self.value(#"trolley_queue_depth{queue="default"}"#, in: metrics) == 4
        }
      }
    }
  }

  /// Issue 14, item 8: two workers on one queue. Only the lowest-id active worker publishes a
  /// queue's depth, so the sum over workers is the queue's depth, not a multiple of it; when that
  /// worker stops, the next one takes the queue over.
  @Test func queueDepthSummedOverWorkersCountsEachWaitingJobOnce() async throws {
    try await withTestDatabase { database in
      let store = JobStore(client: database.client)
      for _ in 0..<3 { _ = try await store.jobInsert(.init(kind: "elsewhere")) }
      _ = try await store.jobInsert(.init(queue: "solo", kind: "elsewhere"))
      func harness(_ queues: [String], _ metrics: WorkerMetrics) -> WorkerHarness {
        WorkerHarness(
          store: store, kinds: [KindRunner(NoopJob())],
          configuration: .init(
            pollInterval: .milliseconds(100), queues: queues,
            queueDepthInterval: .milliseconds(50)),
          metrics: metrics)
      }
      let defaultDepth = #"trolley_queue_depth{queue="default"}"#
      let soloDepth = #"trolley_queue_depth{queue="solo"}"#
      let firstMetrics = WorkerMetrics()
      let first = harness(["default"], firstMetrics)
      let firstRun = Task { try await first.loop.run() }
      try await eventually("the first worker publishes its queue") {
        Self.value(defaultDepth, in: firstMetrics) == 3
      }
      let secondMetrics = WorkerMetrics()
      try await harness(["default", "solo"], secondMetrics).running { _ in
        // The second worker's gauge has run once it shows the queue only it serves.
        try await eventually("the second worker publishes the queue only it serves") {
          Self.value(soloDepth, in: secondMetrics) == 1
        }
        #expect(Self.value(defaultDepth, in: secondMetrics) == nil)
        let sum =
          (Self.value(defaultDepth, in: firstMetrics) ?? 0)
          + (Self.value(defaultDepth, in: secondMetrics) ?? 0)
        #expect(sum == 3)
        #expect(Self.value(soloDepth, in: firstMetrics) == nil)

        first.loop.beginShutdown()
        try await firstRun.value
        try await eventually("the second worker takes the queue over") {
          Self.value(defaultDepth, in: secondMetrics) == 3
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
