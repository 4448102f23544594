import Dispatch
import Foundation

/// A small pool of connections for Swift concurrency. Each connection does its blocking libpq
/// calls on its own serial dispatch queue, so awaiting a query never blocks the (two-thread)
/// cooperative pool.
///
/// ```swift
/// let client = PostgresClient(configuration: configuration, maximumConnections: 4)
/// let count = try await client.withConnection { connection in
///   try connection.query("SELECT count(*) FROM jobs").single().decode(0, as: Int64.self)
/// }
/// try await client.withTransaction { connection in ... }   // BEGIN ... COMMIT / ROLLBACK
/// ```
///
/// Connections are opened lazily, up to `maximumConnections`; callers beyond that wait (and
/// honour task cancellation while waiting). A connection whose server went away is reconnected
/// before it is lent again (see `PostgresConnection` for what is and is not retried: a statement
/// is never re-run). If a body leaves a transaction open, it is rolled back on return.
public final class PostgresClient: Sendable {
  /// The settings every connection uses.
  public let configuration: PostgresConfiguration
  /// The most connections this client opens at once.
  public let maximumConnections: Int
  private let state: Locked<PoolState>

  /// Creates a pool; no connection is opened until first use.
  /// - Parameters:
  ///   - configuration: where to connect.
  ///   - maximumConnections: the pool's size, at least 1 (default 4).
  public init(configuration: PostgresConfiguration, maximumConnections: Int = 4) {
    precondition(maximumConnections >= 1, "maximumConnections must be at least 1")
    self.configuration = configuration
    self.maximumConnections = maximumConnections
    self.state = Locked(PoolState())
  }

  /// Lends a connection to `body`, run on that connection's own thread.
  /// - Returns: what `body` returns.
  /// - Throws: what `body` throws, `PostgresError.Code.connectionFailed` if no connection could be
  ///   opened, `.shutdown` after `shutdown()`, or `CancellationError` if cancelled while waiting.
  public func withConnection<T: Sendable>(
    _ body: @escaping @Sendable (PostgresConnection) throws -> T
  ) async throws -> T {
    let slot = try await acquire()
    defer { release(slot) }
    let configuration = self.configuration
    return try await withCheckedThrowingContinuation { continuation in
      slot.queue.async {
        continuation.resume(with: Result { try slot.run(configuration: configuration, body) })
      }
    }
  }

  /// Runs `body` in a transaction on a pooled connection (see `PostgresConnection.withTransaction`).
  public func withTransaction<T: Sendable>(
    isolation: PostgresIsolationLevel? = nil,
    _ body: @escaping @Sendable (PostgresConnection) throws -> T
  ) async throws -> T {
    try await withConnection { connection in
      try connection.withTransaction(isolation: isolation, body)
    }
  }

  /// Runs one statement on a pooled connection (see `PostgresConnection.query`).
  @discardableResult
  public func query(_ sql: String, _ bindings: PostgresBindings = [], name: String? = nil)
    async throws -> PostgresRows
  {
    try await withConnection { connection in try connection.query(sql, bindings, name: name) }
  }

  /// Runs simple-protocol SQL on a pooled connection (see `PostgresConnection.execute`).
  public func execute(_ sql: String) async throws {
    try await withConnection { connection in try connection.execute(sql) }
  }

  /// Closes idle connections and makes later calls throw `.shutdown`; connections in use close
  /// when they are returned.
  public func shutdown() {
    let (idle, waiters) = state.withLock { state -> ([Slot], [Waiter]) in
      state.isShutdown = true
      defer {
        state.idle.removeAll()
        state.waiters.removeAll()
      }
      return (state.idle, state.waiters)
    }
    for slot in idle { slot.queue.async { slot.close() } }
    for waiter in waiters {
      waiter.continuation.resume(
        throwing: PostgresError(.shutdown, "The PostgreSQL client was shut down"))
    }
  }

  // MARK: - Pool

  /// A pooled connection and the serial queue it runs on. Only touched on `queue`.
  final class Slot: @unchecked Sendable {
    let queue: DispatchQueue
    private var connection: PostgresConnection?

    init(index: Int) { queue = DispatchQueue(label: "trolley.postgres.connection.\(index)") }

    func run<T>(configuration: PostgresConfiguration, _ body: (PostgresConnection) throws -> T)
      throws -> T
    {
      dispatchPrecondition(condition: .onQueue(queue))
      let connection = try self.connection ?? PostgresConnection(configuration: configuration)
      self.connection = connection
      defer {
        // Leave no transaction open for the next borrower.
        if connection.isConnected && connection.isInTransaction {
          _ = try? connection.executeWithoutReconnecting("ROLLBACK")
        }
      }
      return try body(connection)
    }

    func close() {
      connection?.close()
      connection = nil
    }
  }

  struct Waiter {
    let id: UInt64
    let continuation: CheckedContinuation<Slot, any Error>
  }

  struct PoolState {
    var idle: [Slot] = []
    var created = 0
    var waiters: [Waiter] = []
    var nextWaiterID: UInt64 = 0
    var cancelledWaiters: Set<UInt64> = []
    var isShutdown = false
  }

  private func acquire() async throws -> Slot {
    try Task.checkCancellation()
    let id = state.withLock { state in
      state.nextWaiterID += 1
      return state.nextWaiterID
    }
    defer {
      // A cancellation that arrived after this caller was served left its id behind.
      _ = state.withLock { $0.cancelledWaiters.remove(id) }
    }
    return try await withTaskCancellationHandler {
      try await withCheckedThrowingContinuation {
        (continuation: CheckedContinuation<Slot, any Error>) in
        enum Decision {
          case use(Slot)
          case fail(any Error)
          case wait
        }
        let decision: Decision = state.withLock { state in
          if state.isShutdown {
            return .fail(PostgresError(.shutdown, "The PostgreSQL client was shut down"))
          }
          if state.cancelledWaiters.remove(id) != nil { return .fail(CancellationError()) }
          if let slot = state.idle.popLast() { return .use(slot) }
          if state.created < maximumConnections {
            state.created += 1
            return .use(Slot(index: state.created))
          }
          state.waiters.append(Waiter(id: id, continuation: continuation))
          return .wait
        }
        switch decision {
        case .use(let slot): continuation.resume(returning: slot)
        case .fail(let error): continuation.resume(throwing: error)
        case .wait: break
        }
      }
    } onCancel: {
      let waiter = state.withLock { state -> Waiter? in
        if let index = state.waiters.firstIndex(where: { $0.id == id }) {
          return state.waiters.remove(at: index)
        }
        // Not queued yet (or already served): make the enqueue step fail instead.
        state.cancelledWaiters.insert(id)
        return nil
      }
      waiter?.continuation.resume(throwing: CancellationError())
    }
  }

  private func release(_ slot: Slot) {
    let waiter = state.withLock { state -> Waiter? in
      if state.isShutdown { return nil }
      if !state.waiters.isEmpty { return state.waiters.removeFirst() }
      state.idle.append(slot)
      return nil
    }
    if let waiter {
      waiter.continuation.resume(returning: slot)
    } else if state.withLock({ $0.isShutdown }) {
      slot.queue.async { slot.close() }
    }
  }
}

/// A value behind a lock (the pool's state; also the test server's, within this package).
package final class Locked<Value>: @unchecked Sendable {
  private let lock = NSLock()
  private var value: Value

  package init(_ value: Value) { self.value = value }

  package func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
    lock.lock()
    defer { lock.unlock() }
    return try body(&value)
  }
}
