import Foundation
import Testing
import TrolleyWorkers

#if canImport(Glibc)
  import Glibc
#endif

@Suite struct MetricsServerTests {
  @Test func servesRecordedMetricsInPrometheusFormat() async throws {
    let metrics = WorkerMetrics()
    metrics.recordJob(kind: "trol.answer", outcome: "succeeded", seconds: 1.5)
    metrics.recordJob(kind: "trol.answer", outcome: "succeeded", seconds: 2.5)
    metrics.recordJob(kind: "trol.answer", outcome: "dead", seconds: 0.1)
    metrics.setQueueDepths(["default": 42])
    let server = try MetricsServer(port: 0, host: "127.0.0.1", metrics: metrics)
    defer { server.stop() }
    let body = String(
      decoding: try await ImageFetcher(policy: .unrestricted).fetch(
        "http://127.0.0.1:\(server.port)/metrics"),
      as: UTF8.self)
    #expect(body.contains(#"trolley_jobs_total{kind="trol.answer",outcome="succeeded"} 2"#))
    #expect(body.contains(#"trolley_jobs_total{kind="trol.answer",outcome="dead"} 1"#))
    #expect(body.contains(#"trolley_queue_depth{queue="default"} 42"#))
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

/// HEAD, `/healthz` and `trolley_build_info`, over a real socket.
@Suite struct MetricsServerProbeTests {
  /// Sends one raw request line and returns the whole response.
  static func exchange(_ request: String, port: UInt16) throws -> String {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    #expect(fd >= 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = port.bigEndian
    let connected = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    #expect(connected == 0)
    let bytes = Array((request + "\r\n\r\n").utf8)
    _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
    var response: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
      let n = read(fd, &buffer, buffer.count)
      if n <= 0 { break }
      response += buffer[0..<n]
    }
    return String(decoding: response, as: UTF8.self)
  }

  @Test func headAnswersWithHeadersOnly() throws {
    let metrics = WorkerMetrics()
    metrics.setQueueDepths(["default": 7])
    let server = try MetricsServer(port: 0, host: "127.0.0.1", metrics: metrics)
    defer { server.stop() }
    let get = try Self.exchange("GET /metrics HTTP/1.0", port: server.port)
    let head = try Self.exchange("HEAD /metrics HTTP/1.0", port: server.port)
    #expect(head.hasPrefix("HTTP/1.0 200 OK"))
    let parts = head.components(separatedBy: "\r\n\r\n")
    #expect(parts.count == 2 && parts[1].isEmpty, "HEAD must not send a body: \(head)")
    let getBody = get.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
    #expect(head.contains("Content-Length: \(getBody.utf8.count)"))
    #expect(getBody.contains(#"trolley_queue_depth{queue="default"} 7"#))
    let post = try Self.exchange("POST /metrics HTTP/1.0", port: server.port)
    #expect(post.hasPrefix("HTTP/1.0 405"))
    #expect(post.contains("Allow: GET, HEAD"))
  }

  @Test func healthzFollowsHeartbeats() throws {
    let metrics = WorkerMetrics(unhealthyHeartbeatAge: 60)
    let server = try MetricsServer(port: 0, host: "127.0.0.1", metrics: metrics)
    defer { server.stop() }
    let starting = try Self.exchange("GET /healthz HTTP/1.0", port: server.port)
    #expect(starting.hasPrefix("HTTP/1.0 503"))
    #expect(starting.contains("starting"))
    metrics.setHeartbeatAge(seconds: 0)
    let ready = try Self.exchange("GET /healthz HTTP/1.0", port: server.port)
    #expect(ready.hasPrefix("HTTP/1.0 200 OK"))
    #expect(ready.hasSuffix("ok\n"))
    #expect(
      try Self.exchange("HEAD /healthz HTTP/1.0", port: server.port).hasPrefix("HTTP/1.0 200"))
    metrics.setHeartbeatAge(seconds: 61)
    let stale = try Self.exchange("GET /healthz HTTP/1.0", port: server.port)
    #expect(stale.hasPrefix("HTTP/1.0 503"))
    #expect(stale.contains("database"))
    #expect(try Self.exchange("GET /nope HTTP/1.0", port: server.port).hasPrefix("HTTP/1.0 404"))
  }

  @Test func buildInfoNamesVersionAndCommit() throws {
    let body = String(decoding: WorkerMetrics().exposition(), as: UTF8.self)
    let line = try #require(
      body.split(separator: "\n").first { $0.hasPrefix("trolley_build_info{") })
    #expect(line.contains(#"version=""#) && line.contains(#"commit=""#))
    #expect(line.split(separator: " ").last.flatMap { Double($0) } == 1, "\(line)")
    #expect(!line.contains(#"commit="unknown""#), "built from git, the commit is known: \(line)")
  }
}
