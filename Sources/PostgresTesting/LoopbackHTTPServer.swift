import Foundation
import TrolleyBasics

#if canImport(Glibc)
  import Glibc
#endif

/// A tiny HTTP/1.0 server on 127.0.0.1 for tests: each path maps to a canned response, which a
/// test may change while the server runs (a slow server that recovers, for example).
///
/// ```swift
/// let server = try LoopbackHTTPServer()
/// defer { server.stop() }
/// server.serve("/cat.png", .init(body: pngBytes))
/// let url = server.url("/cat.png")  // http://127.0.0.1:<port>/cat.png
/// ```
public final class LoopbackHTTPServer: @unchecked Sendable {
  public struct Response: Sendable {
    public var status: Int
    public var body: [UInt8]
    /// Wait this long after the headers before sending the body (a slow server).
    public var stallBeforeBody: Duration
    /// Extra response headers ("Location" for a redirect, ...).
    public var headers: [String: String]
    /// Answer `Range: bytes=N-` requests with 206 and the rest of the body (as file servers and
    /// CDNs do); false answers them with the whole body.
    public var acceptsRanges: Bool
    /// Send only this many bytes of the body, then close (a connection that drops mid-file).
    public var truncateAfter: Int?

    public init(
      status: Int = 200, body: [UInt8] = [], stallBeforeBody: Duration = .zero,
      headers: [String: String] = [:], acceptsRanges: Bool = false, truncateAfter: Int? = nil
    ) {
      self.status = status
      self.body = body
      self.stallBeforeBody = stallBeforeBody
      self.headers = headers
      self.acceptsRanges = acceptsRanges
      self.truncateAfter = truncateAfter
    }
  }

  #if canImport(Glibc)
    private static let noSignal = Int32(MSG_NOSIGNAL)
  #else
    private static let noSignal: Int32 = 0
  #endif

  /// The port it listens on (chosen by the system).
  public let port: UInt16
  private let listener: TCPListener
  private let lock = NSLock()
  private var routes: [String: Response] = [:]
  private var hits: [String: Int] = [:]
  private var received: [String: [String]] = [:]

  /// Starts listening on an ephemeral port of 127.0.0.1.
  /// - Throws: `POSIXError` if no socket can be bound.
  public init() throws {
    do {
      listener = try TCPListener(
        host: "127.0.0.1", port: 0, backlog: 64,
        reuseAddress: false)
    } catch {
      throw POSIXError(.EADDRINUSE)
    }
    port = listener.port
    listener.start { [self] client in
      let thread = Thread { [self] in handle(client) }
      thread.start()
    }
  }

  /// The URL of `path` on this server.
  public func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

  /// Answers requests for `path` with `response` from now on (unknown paths get 404).
  public func serve(_ path: String, _ response: Response) {
    lock.withLock { routes[path] = response }
  }

  /// The header blocks of the requests `path` received, in order (to check what a client sent).
  public func requests(_ path: String) -> [String] { lock.withLock { received[path] ?? [] } }

  /// How many requests `path` received.
  public func hitCount(_ path: String) -> Int { lock.withLock { hits[path, default: 0] } }

  /// Stops accepting connections; requests being answered finish on their own threads.
  public func stop() { listener.stop() }

  private func handle(_ client: Int32) {
    defer { close(client) }
    #if canImport(Darwin)
      var one: Int32 = 1
      setsockopt(client, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
    #endif
    var request = [UInt8]()
    var buffer = [UInt8](repeating: 0, count: 4096)
    while !request.containsHeaderEnd {
      let n = read(client, &buffer, buffer.count)
      if n <= 0 { return }
      request.append(contentsOf: buffer[0..<n])
    }
    let line = String(decoding: request.prefix { $0 != 13 && $0 != 10 }, as: UTF8.self)
    let parts = line.split(separator: " ")
    let path = parts.count > 1 ? String(parts[1]) : "/"
    let headerText = String(decoding: request, as: UTF8.self)
    let response = lock.withLock { () -> Response in
      hits[path, default: 0] += 1
      received[path, default: []].append(headerText)
      return routes[path] ?? Response(status: 404, body: Array("not found".utf8))
    }
    var status = response.status
    var body = response.body
    var extra = response.headers.map { "\($0.key): \($0.value)\r\n" }.joined()
    if response.acceptsRanges, status == 200,
      let range = headerText.split(separator: "\r\n").first(where: {
        $0.lowercased().hasPrefix("range: bytes=")
      }),
      let start = Int(range.dropFirst("range: bytes=".count).prefix { $0.isNumber }),
      start < body.count
    {
      status = 206
      extra += "Content-Range: bytes \(start)-\(body.count - 1)/\(body.count)\r\n"
      body = Array(body[start...])
    }
    let head =
      "HTTP/1.0 \(status) X\r\nContent-Length: \(body.count)\r\n\(extra)Connection: close\r\n\r\n"
    writeAll(client, Array(head.utf8))
    if response.stallBeforeBody > .zero {
      Thread.sleep(forTimeInterval: response.stallBeforeBody.seconds)
    }
    writeAll(client, response.truncateAfter.map { Array(body.prefix($0)) } ?? body)
  }

  /// Writes with MSG_NOSIGNAL: a client that gave up (a fetch timeout) must cost an EPIPE here,
  /// not a SIGPIPE that kills the whole test process.
  private func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
    var offset = 0
    while offset < bytes.count {
      let n = bytes[offset...].withUnsafeBytes {
        send(fd, $0.baseAddress, $0.count, Self.noSignal)
      }
      if n <= 0 { return }
      offset += n
    }
  }
}

extension Array where Element == UInt8 {
  fileprivate var containsHeaderEnd: Bool {
    guard count >= 4 else { return false }
    for i in 0...(count - 4)
    where self[i] == 13 && self[i + 1] == 10 && self[i + 2] == 13 && self[i + 3] == 10 {
      return true
    }
    return false
  }
}
