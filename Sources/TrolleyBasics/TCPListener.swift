import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A listening IPv4 TCP socket whose connections a thread of its own accepts and hands to a
/// closure: what the worker's metrics server and the tests' loopback HTTP server stand on.
///
/// No event loop and nothing on the cooperative thread pool: each accepted descriptor goes to
/// `handle`, which owns it (and closes it).
public final class TCPListener: Sendable {
  /// Why the socket could not be opened, bound or listened on (the system's words).
  public struct BindFailure: Error, Sendable {
    public let reason: String
  }

  /// The port actually bound (the system's choice when 0 was asked for).
  public let port: UInt16
  private let descriptor: Int32
  private let stopped = Mutex(false)

  /// Binds `host:port` and listens.
  ///
  /// - Parameters:
  ///   - host: an IPv4 address (`127.0.0.1`, `0.0.0.0`...).
  ///   - reuseAddress: set `SO_REUSEADDR`, so that a restarted process can rebind its fixed port
  ///     while old connections sit in TIME_WAIT. Not for port 0: with it the kernel may hand out a
  ///     port another reusable socket already holds.
  public init(host: String, port: UInt16, backlog: Int32, reuseAddress: Bool)
    throws(BindFailure)
  {
    var address = in_addr()
    guard inet_pton(AF_INET, host, &address) == 1 else {
      throw BindFailure(reason: "\(host) is not an IPv4 address (such as 127.0.0.1 or 0.0.0.0)")
    }
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw BindFailure(reason: String(cString: strerror(errno))) }
    if reuseAddress {
      var one: Int32 = 1
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    }
    var socketAddress = sockaddr_in()
    socketAddress.sin_family = sa_family_t(AF_INET)
    socketAddress.sin_addr = address
    socketAddress.sin_port = port.bigEndian
    let bound = withUnsafePointer(to: &socketAddress) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    guard bound == 0, listen(fd, backlog) == 0 else {
      let reason = String(cString: strerror(errno))
      close(fd)
      throw BindFailure(reason: reason)
    }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &socketAddress) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    descriptor = fd
    self.port = UInt16(bigEndian: socketAddress.sin_port)
  }

  /// Starts the accept thread: every connection's descriptor goes to `handle`, on that thread,
  /// until `stop()`.
  public func start(threadName: String? = nil, _ handle: @escaping @Sendable (Int32) -> Void) {
    let thread = Thread { [self] in
      while true {
        let client = accept(descriptor, nil, nil)
        if stopped.withLock({ $0 }) {
          if client >= 0 { close(client) }
          close(descriptor)
          return
        }
        if client < 0 { continue }
        handle(client)
      }
    }
    if let threadName { thread.name = threadName }
    thread.start()
  }

  /// Stops accepting connections; connections being handled finish on their own.
  public func stop() {
    stopped.withLock { $0 = true }
    // Wakes the accept thread, which closes the descriptor itself: closing it here could let the
    // number be reused by another socket while that thread still accepts on it.
    shutdown(descriptor, Int32(SHUT_RDWR))
  }
}
