import Testing
import TrolleyWorkers

@Suite struct MetricsServerTests {
  @Test func servesRecordedMetricsInPrometheusFormat() async throws {
    let metrics = WorkerMetrics()
    metrics.recordJob(kind: "trol.answer", outcome: "succeeded", seconds: 1.5)
    metrics.recordJob(kind: "trol.answer", outcome: "succeeded", seconds: 2.5)
    metrics.recordJob(kind: "trol.answer", outcome: "dead", seconds: 0.1)
    metrics.setQueueDepth(42)
    let server = try MetricsServer(port: 0, host: "127.0.0.1", metrics: metrics)
    defer { server.stop() }
    let body = String(
      decoding: try await ImageFetcher().fetch("http://127.0.0.1:\(server.port)/metrics"),
      as: UTF8.self)
    #expect(body.contains(#"trolley_jobs_total{kind="trol.answer",outcome="succeeded"} 2"#))
    #expect(body.contains(#"trolley_jobs_total{kind="trol.answer",outcome="dead"} 1"#))
    #expect(body.contains("trolley_queue_depth 42"))
    #expect(body.contains(#"trolley_job_duration_seconds_count{kind="trol.answer"} 3"#))
  }

  @Test func aTakenPortIsAClearError() throws {
    let first = try MetricsServer(port: 0, host: "127.0.0.1", metrics: WorkerMetrics())
    defer { first.stop() }
    #expect(throws: MetricsServer.BindError.self) {
      _ = try MetricsServer(port: first.port, host: "127.0.0.1", metrics: WorkerMetrics())
    }
  }
}
