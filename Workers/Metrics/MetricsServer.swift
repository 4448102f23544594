import Foundation
import TrolleyBasics

#if canImport(Glibc)
  import Glibc
#endif

/// Serves `/metrics` (Prometheus) and `/healthz` (readiness: 200 once the worker has
/// heartbeated, 503 before or when heartbeats stall) over plain HTTP/1.0, on a thread of its own.
///
/// A deliberately tiny server: one short-lived connection per scrape, no keep-alive, so it needs
/// no event loop and never touches the cooperative thread pool.
public final class MetricsServer: @unchecked Sendable {
  /// The port actually bound (useful when 0 was asked for).
  public let port: UInt16
  private let listener: TCPListener
  private let metrics: WorkerMetrics

  /// Binds `host:port` (an IPv4 address; default loopback, so metrics are not served to the
  /// network unless asked for) and starts serving.
  /// - Throws: `MetricsServer.BindError` naming the port when it is taken or not allowed, or the
  ///   address when it is not an IPv4 address.
  public init(port: UInt16, host: String = "127.0.0.1", metrics: WorkerMetrics) throws {
    do {
      listener = try TCPListener(
        host: host, port: port, backlog: 16, reuseAddress: port != 0)
    } catch {
      throw BindError(port: port, reason: error.reason)
    }
    self.port = listener.port
    self.metrics = metrics
    listener.start(threadName: "trolley-metrics") { [self] client in
      respond(client)
      close(client)
    }
  }

  /// Why the metrics port could not be opened.
  public struct BindError: Error, CustomStringConvertible {
    public let port: UInt16
    public let reason: String
    public var description: String {
      "cannot serve metrics on port \(port): \(reason); choose another --metrics-port or stop the process using it"
    }
  }

  public func stop() { listener.stop() }

  private func respond(_ client: Int32) {
    var timeout = timeval(tv_sec: 2, tv_usec: 0)
    setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var request = [UInt8](repeating: 0, count: 2048)
    let n = read(client, &request, request.count)
    guard n > 0 else { return }
    let line = String(decoding: request[0..<n].prefix { $0 != 13 && $0 != 10 }, as: UTF8.self)
    let response = Self.response(to: line, metrics: metrics)
    writeAll(client, response)
  }

  /// The whole HTTP/1.0 response to a request line: `GET` or `HEAD` of `/metrics` (also `/`) or
  /// `/healthz`; 405 for other methods, 404 for other paths. `HEAD` gets the headers `GET`
  /// would, without the body (monitoring probes and `curl -I` use it).
  static func response(to requestLine: String, metrics: WorkerMetrics) -> [UInt8] {
    let words = requestLine.split(separator: " ", omittingEmptySubsequences: true)
    let method = words.first.map(String.init) ?? ""
    var path = words.count > 1 ? String(words[1]) : "/"
    if let query = path.firstIndex(of: "?") { path = String(path[..<query]) }
    var status = "200 OK"
    var body: [UInt8]
    var type = "text/plain; version=0.0.4; charset=utf-8"
    switch (method, path) {
    case ("GET", "/metrics"), ("GET", "/"), ("HEAD", "/metrics"), ("HEAD", "/"):
      body = method == "HEAD" ? [] : metrics.exposition()
    case ("GET", "/healthz"), ("HEAD", "/healthz"):
      let health = metrics.health()
      if !health.ok { status = "503 Service Unavailable" }
      type = "text/plain; charset=utf-8"
      body = Array((health.reason + "\n").utf8)
    case ("GET", _), ("HEAD", _):
      status = "404 Not Found"
      type = "text/plain; charset=utf-8"
      body = Array("not found: try /metrics or /healthz\n".utf8)
    default:
      status = "405 Method Not Allowed"
      type = "text/plain; charset=utf-8"
      body = Array("only GET and HEAD are served\n".utf8)
    }
    // HEAD announces the length GET would send; for /metrics that means rendering it once.
    let length =
      method == "HEAD" && (path == "/metrics" || path == "/")
      ? metrics.exposition().count : body.count
    if method == "HEAD" { body = [] }
    let head =
      "HTTP/1.0 \(status)\r\nContent-Type: \(type)\r\nContent-Length: \(length)\r\n"
      + (status.hasPrefix("405") ? "Allow: GET, HEAD\r\n" : "") + "Connection: close\r\n\r\n"
    return Array(head.utf8) + body
  }

  private func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
    var offset = 0
    while offset < bytes.count {
      let n = bytes[offset...].withUnsafeBytes {
        send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
      }
      if n <= 0 { return }
      offset += n
    }
  }
}
