import CLibPQ

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

extension PostgresConnection {
  /// Starts listening on a channel; remembered, so a reconnect listens again.
  /// - Throws: `PostgresError`.
  public func listen(_ channel: String) throws {
    try execute("LISTEN \(try quotedIdentifier(channel))", name: "listen")
    if !listenedChannels.contains(channel) { listenedChannels.append(channel) }
  }

  /// Stops listening on a channel.
  /// - Throws: `PostgresError`.
  public func unlisten(_ channel: String) throws {
    try execute("UNLISTEN \(try quotedIdentifier(channel))", name: "unlisten")
    listenedChannels.removeAll { $0 == channel }
  }

  /// Sends a notification (`pg_notify`, parameterized). Inside a transaction it is delivered at commit.
  /// - Throws: `PostgresError`.
  public func notify(_ channel: String, payload: String = "") throws {
    try query("SELECT pg_notify($1, $2)", [channel, payload], name: "notify")
  }

  /// Waits until at least one notification arrives or `timeout` passes, sleeping in `poll(2)` on
  /// the connection's socket (no busy loop), and returns what arrived (possibly nothing).
  ///
  /// If the connection was lost, it reconnects and listens again, then returns what it had;
  /// notifications sent while it was disconnected are lost, so consumers should also poll for
  /// work on timeout.
  /// - Parameters:
  ///   - timeout: the longest to wait.
  ///   - wakeDescriptor: a file descriptor that, when readable, ends the wait early (used by
  ///     `PostgresListener` for cancellation); it is not read.
  /// - Throws: `PostgresError.Code.connectionFailed` if the server cannot be reached.
  public func waitForNotifications(timeout: Duration, wakeDescriptor: Int32? = nil) throws
    -> [PostgresNotification]
  {
    try prepareForStatement()
    var received = takeNotifications()
    if !received.isEmpty { return received }
    let deadline = ContinuousClock.now + timeout
    while received.isEmpty {
      let remaining = ContinuousClock.now.duration(to: deadline)
      if remaining <= .zero { break }
      let milliseconds =
        remaining.components.seconds * 1000 + remaining.components.attoseconds
        / 1_000_000_000_000_000 + 1
      var descriptors = [pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)]
      if let wakeDescriptor {
        descriptors.append(pollfd(fd: wakeDescriptor, events: Int16(POLLIN), revents: 0))
      }
      let ready = poll(&descriptors, nfds_t(descriptors.count), Int32(clamping: milliseconds))
      if ready < 0 && errno != EINTR {
        throw PostgresError(
          .connectionLost, "Waiting on the connection's socket failed (errno \(errno))")
      }
      if descriptors.count > 1 && descriptors[1].revents != 0 { break }
      if descriptors[0].revents != 0 {
        if PQconsumeInput(handle) == 0 || PQstatus(handle) != CONNECTION_OK {
          try reconnect()
          return takeNotifications()
        }
        received = takeNotifications()
      }
    }
    return received
  }

  /// Notifications libpq has already read.
  func takeNotifications() -> [PostgresNotification] {
    var notifications: [PostgresNotification] = []
    _ = PQconsumeInput(handle)
    while let notify = PQnotifies(handle) {
      notifications.append(
        PostgresNotification(
          channel: String(cString: notify.pointee.relname),
          payload: String(cString: notify.pointee.extra),
          senderPID: notify.pointee.be_pid))
      PQfreemem(notify)
    }
    return notifications
  }
}
