import Foundation

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
  private let listener: Int32
  private let metrics: WorkerMetrics
  private let lock = NSLock()
  private var stopped = false

  /// Binds `host:port` (an IPv4 address; default loopback, so metrics are not served to the
  /// network unless asked for) and starts serving.
  /// - Throws: `MetricsServer.BindError` naming the port when it is taken or not allowed, or the
  ///   address when it is not an IPv4 address.
  public init(port: UInt16, host: String = "127.0.0.1", metrics: WorkerMetrics) throws {
    var parsed = in_addr()
    guard inet_pton(AF_INET, host, &parsed) == 1 else {
      throw BindError(
        port: port, reason: "\(host) is not an IPv4 address (such as 127.0.0.1 or 0.0.0.0)")
    }
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw BindError(port: port, reason: String(cString: strerror(errno))) }
    if port != 0 {
      // Lets a restarted worker rebind its fixed port while old connections sit in TIME_WAIT. Not
      // for port 0: with it the kernel may hand out a port another reusable socket already holds.
      var one: Int32 = 1
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr = parsed
    address.sin_port = port.bigEndian
    let bound = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    guard bound == 0, listen(fd, 16) == 0 else {
      let reason = String(cString: strerror(errno))
      close(fd)
      throw BindError(port: port, reason: reason)
    }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    self.listener = fd
    self.port = UInt16(bigEndian: address.sin_port)
    self.metrics = metrics
    let thread = Thread { [self] in serve() }
    thread.name = "trolley-metrics"
    thread.start()
  }

  /// Why the metrics port could not be opened.
  public struct BindError: Error, CustomStringConvertible {
    public let port: UInt16
    public let reason: String
    public var description: String {
      "cannot serve metrics on port \(port): \(reason); choose another --metrics-port or stop the process using it"
    }
  }

  public func stop() {
    lock.withLock { stopped = true }
    // Wakes the accept thread, which closes the descriptor itself: closing it here could let the
    // number be reused by another socket while that thread still accepts on it.
    shutdown(listener, Int32(SHUT_RDWR))
  }

  private func serve() {
    while true {
      let client = accept(listener, nil, nil)
      if lock.withLock({ stopped }) {
        if client >= 0 { close(client) }
        close(listener)
        return
      }
      if client < 0 { continue }
      respond(client)
      close(client)
    }
  }

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
