public import Postgres

/// The seam between the queue and PostgreSQL: every statement the queue runs is a method here,
/// one file per concern (`JobStore+Claim.swift`, `+Complete`, `+Rescue`, ...), with its SQL in a
/// `static let` right above the method that runs it.
///
/// Public API at a glance (each method takes one `…Params` struct; each has a synchronous form
/// `method(_:on:)` that runs on a connection you hold, for example inside your own transaction,
/// and an `async` form that borrows a connection from the pool):
///
/// | concern | methods |
/// |---|---|
/// | enqueue | `jobInsert` (one job, optional dependencies), `jobInsertMany` (streamed COPY) |
/// | work | `jobClaim`, `jobHeartbeatMany`, `jobCompleteMany` (success, error, cancel, hand-back) |
/// | recovery | `jobRescueExpired`, `jobPromoteDue` |
/// | operators | `jobCancel`, `jobRetry`, `jobGet`, `jobCrashes`, `queuePause`, `queueResume`, `queueList` |
/// | batches | `batchCreate`, `batchGet`, `batchProgress`, `batchCountsRollup` |
/// | workers | `workerRegister`, `workerHeartbeat`, `workerStop`, `workerSweepStale` |
/// | retention | `jobDeleteFinished`, `workerDeleteStopped` |
///
/// ```swift
/// let store = JobStore(client: client)
/// let batch = try await store.batchCreate(.init(name: "captions-2024-06"))
/// let added = try await store.jobInsertMany(.init(batchID: batch.id), rows: rows)
/// let jobs = try await store.jobClaim(.init(queue: "default", limit: 10, workerID: worker))
/// try await store.jobCompleteMany(.init(outcomes: jobs.map { .succeeded($0, result: json) }))
/// ```
///
/// Every statement that reads the clock takes an optional `now` (nil: the server's `now()`), so
/// tests move time instead of sleeping.
public struct JobStore: Sendable {
  /// The pool the `async` methods borrow connections from.
  public let client: PostgresClient

  /// The channel enqueue notifies (payload: the queue name) and idle workers listen on.
  public static let notificationChannel = "trolley_jobs"

  /// Creates a store over a pool.
  public init(client: PostgresClient) {
    self.client = client
  }
}

extension JobStore {
  /// Runs `body` on a pooled connection.
  func withConnection<T: Sendable>(
    _ body: @escaping @Sendable (PostgresConnection) throws -> T
  ) async throws -> T {
    try await client.withConnection { connection in try body(connection) }
  }
}
