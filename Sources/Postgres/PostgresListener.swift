import Dispatch

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A dedicated connection that LISTENs on fixed channels, for async code.
///
/// ```swift
/// let listener = PostgresListener(configuration: configuration, channels: ["jobs_available"])
/// while !Task.isCancelled {
///   let notifications = try await listener.next(timeout: .seconds(5))   // [] on timeout
///   ...
/// }
/// ```
/// The wait happens in `poll(2)` on the connection's own thread; task cancellation wakes it at
/// once (then `next` throws `CancellationError`). The connection is opened on the first call and
/// re-opened (and re-LISTENed) after the server goes away; notifications sent while disconnected
/// are lost, so poll for work on timeout too. `next` may return early with no notifications.
public final class PostgresListener: @unchecked Sendable {
  // `connection` is only touched on `queue`; the pipe's descriptors are fixed after init.
  /// The channels listened on.
  public let channels: [String]
  private let configuration: PostgresConfiguration
  private let queue = DispatchQueue(label: "trolley.postgres.listener")
  private var connection: PostgresConnection?
  private let wakeRead: Int32
  private let wakeWrite: Int32

  /// Creates a listener; the connection opens on the first `next`.
  public init(configuration: PostgresConfiguration, channels: [String]) {
    self.configuration = configuration
    self.channels = channels
    var descriptors: [Int32] = [-1, -1]
    if pipe(&descriptors) == 0 {
      for descriptor in descriptors {
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
      }
    }
    wakeRead = descriptors[0]
    wakeWrite = descriptors[1]
  }

  deinit {
    if wakeRead >= 0 { closeDescriptor(wakeRead) }
    if wakeWrite >= 0 { closeDescriptor(wakeWrite) }
  }

  /// Waits for notifications, at most `timeout`.
  /// - Returns: the notifications that arrived, possibly none.
  /// - Throws: `PostgresError.Code.connectionFailed` while the server is unreachable (call again
  ///   to retry), or `CancellationError`.
  public func next(timeout: Duration) async throws -> [PostgresNotification] {
    try Task.checkCancellation()
    let notifications = try await withTaskCancellationHandler {
      try await withCheckedThrowingContinuation {
        (continuation: CheckedContinuation<[PostgresNotification], any Error>) in
        queue.async {
          continuation.resume(with: Result { try self.waitOnQueue(timeout: timeout) })
        }
      }
    } onCancel: {
      var byte: UInt8 = 1
      _ = write(wakeWrite, &byte, 1)
    }
    try Task.checkCancellation()
    return notifications
  }

  private func waitOnQueue(timeout: Duration) throws -> [PostgresNotification] {
    let connection = try self.connection ?? PostgresConnection(configuration: configuration)
    if self.connection == nil {
      for channel in channels { try connection.listen(channel) }
      self.connection = connection
    }
    defer {
      // Consume the wake-up (if any) so it ends only this wait.
      var scratch = [UInt8](repeating: 0, count: 64)
      while read(wakeRead, &scratch, scratch.count) > 0 {}
    }
    return try connection.waitForNotifications(timeout: timeout, wakeDescriptor: wakeRead)
  }

  /// Closes the connection; a later `next` opens a new one.
  public func close() {
    queue.sync {
      connection?.close()
      connection = nil
    }
  }
}

private func closeDescriptor(_ descriptor: Int32) {
  #if canImport(Glibc)
    _ = Glibc.close(descriptor)
  #else
    _ = Darwin.close(descriptor)
  #endif
}
