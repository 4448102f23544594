import Foundation
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
      decoding: try await ImageFetcher(policy: .unrestricted).fetch(
        "http://127.0.0.1:\(server.port)/metrics"),
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

/// Issue 13, item 11: metrics are served to this host only unless an address says otherwise.
@Suite struct MetricsServerAddressTests {
  /// The local address of the listening TCP socket on `port`, from /proc/net/tcp (hex, as the
  /// kernel writes it: 0100007F is 127.0.0.1, 00000000 is 0.0.0.0).
  static func listeningAddress(port: UInt16) throws -> String? {
    let table = try String(contentsOfFile: "/proc/net/tcp", encoding: .utf8)
    let wanted = String(format: "%04X", port)
    for line in table.split(separator: "\n").dropFirst() {
      let fields = line.split(separator: " ")
      guard fields.count > 3, fields[3] == "0A" else { continue }  // 0A: LISTEN
      let local = fields[1].split(separator: ":")
      if local.count == 2, local[1] == wanted { return String(local[0]) }
    }
    return nil
  }

  @Test func theDefaultAddressIsLoopback() throws {
    let server = try MetricsServer(port: 0, metrics: WorkerMetrics())
    defer { server.stop() }
    #expect(try Self.listeningAddress(port: server.port) == "0100007F")
  }

  @Test func anotherAddressCanBeAskedForAndNonsenseIsAnError() throws {
    let server = try MetricsServer(port: 0, host: "0.0.0.0", metrics: WorkerMetrics())
    defer { server.stop() }
    #expect(try Self.listeningAddress(port: server.port) == "00000000")
    #expect(throws: MetricsServer.BindError.self) {
      _ = try MetricsServer(port: 0, host: "metrics.example", metrics: WorkerMetrics())
    }
  }
}
