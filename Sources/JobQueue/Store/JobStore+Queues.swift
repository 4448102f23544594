public import Foundation
public import Postgres

/// A queue that has been paused at least once (queues exist implicitly).
public struct QueueRecord: Sendable, Hashable {
  public var name: String
  /// When it was paused; nil while it runs.
  public var pausedAt: Date?
  public var updatedAt: Date
}

/// Pause or resume one queue.
public struct QueuePauseParams: Sendable {
  public var name: String
  /// The clock; nil: the server's `now()`.
  public var now: Date?

  public init(name: String, now: Date? = nil) {
    self.name = name
    self.now = now
  }
}

extension JobStore {
  static let queuePauseSQL = """
    INSERT INTO queues (name, paused_at, updated_at)
    VALUES ($1, coalesce($2::timestamptz, now()), coalesce($2::timestamptz, now()))
    ON CONFLICT (name) DO UPDATE SET
      paused_at = coalesce(queues.paused_at, excluded.paused_at), updated_at = excluded.updated_at
    """

  static let queueResumeSQL = """
    WITH resumed AS (
      UPDATE queues SET paused_at = NULL, updated_at = coalesce($2::timestamptz, now())
      WHERE name = $1 AND paused_at IS NOT NULL
      RETURNING name)
    SELECT pg_notify('trolley_jobs', name)::text FROM resumed
    """

  static let queueListSQL = """
    SELECT name, paused_at, updated_at FROM queues ORDER BY name
    """

  /// Pauses a queue: claims from it return nothing until it is resumed. Running jobs go on.
  public func queuePause(_ params: QueuePauseParams, on connection: PostgresConnection) throws {
    try connection.query(Self.queuePauseSQL, [params.name, params.now], name: "queuePause")
  }

  /// Pauses on a pooled connection. See `queuePause(_:on:)`.
  public func queuePause(_ params: QueuePauseParams) async throws {
    try await withConnection { try self.queuePause(params, on: $0) }
  }

  /// Resumes a paused queue and wakes its workers.
  /// - Returns: false when the queue was not paused.
  @discardableResult
  public func queueResume(_ params: QueuePauseParams, on connection: PostgresConnection) throws
    -> Bool
  {
    !(try connection.query(Self.queueResumeSQL, [params.name, params.now], name: "queueResume"))
      .isEmpty
  }

  /// Resumes on a pooled connection. See `queueResume(_:on:)`.
  @discardableResult
  public func queueResume(_ params: QueuePauseParams) async throws -> Bool {
    try await withConnection { try self.queueResume(params, on: $0) }
  }

  /// Every queue with a pause record, by name.
  public func queueList(on connection: PostgresConnection) throws -> [QueueRecord] {
    try connection.query(Self.queueListSQL, name: "queueList").map { row in
      QueueRecord(
        name: try row.decode(0), pausedAt: try row.decode(1), updatedAt: try row.decode(2))
    }
  }

  /// Lists on a pooled connection. See `queueList(on:)`.
  public func queueList() async throws -> [QueueRecord] {
    try await withConnection { try self.queueList(on: $0) }
  }
}
