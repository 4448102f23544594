public import Foundation
public import Postgres
import TrolleyBasics

/// A worker process announcing itself.
public struct WorkerRegisterParams: Sendable {
  public var host: String
  public var pid: Int32
  public var version: String
  public var queues: [String]
  public var kinds: [String]
  /// Jobs it runs at once.
  public var capacity: Int32
  /// The lease it claims with; the sweep waits at least this long before calling it stale.
  public var lease: Duration?
  /// The clock; nil: the server's `now()`.
  public var now: Date?

  public init(
    host: String, pid: Int32, version: String, queues: [String], kinds: [String], capacity: Int32,
    lease: Duration? = nil, now: Date? = nil
  ) {
    self.lease = lease
    self.host = host
    self.pid = pid
    self.version = version
    self.queues = queues
    self.kinds = kinds
    self.capacity = capacity
    self.now = now
  }
}

/// A stale-worker sweep.
public struct WorkerSweepParams: Sendable {
  /// A worker silent for longer than this and than its own lease is stale. Default 60 s.
  public var staleAfter: Duration
  /// The clock; nil: the server's `now()`.
  public var now: Date?

  public init(staleAfter: Duration = .seconds(60), now: Date? = nil) {
    self.staleAfter = staleAfter
    self.now = now
  }
}

/// What a sweep did.
public struct WorkerSweepResult: Sendable, Hashable {
  /// Workers newly marked stale.
  public var staleWorkers: [Int64]
  /// Their running jobs, whose leases now expire at once (the rescuer takes them next).
  public var expiredLeases: Int
}

extension JobStore {
  static let workerRegisterSQL = """
    INSERT INTO workers (host, pid, version, queues, kinds, capacity, started_at, heartbeat_at,
                         lease_seconds)
    VALUES ($1, $2, $3, $4, $5, $6, coalesce($7::timestamptz, now()), coalesce($7::timestamptz, now()),
            $8)
    RETURNING id
    """

  static let workerHeartbeatSQL = """
    -- A worker that was marked stale but is alive again (a long pause) becomes active again; the
    -- jobs it lost meanwhile stay lost (their tokens no longer match).
    UPDATE workers SET heartbeat_at = coalesce($2::timestamptz, now()), state = 'active',
      stopped_at = NULL
    WHERE id = $1 AND state <> 'stopped'
    RETURNING id
    """

  static let workerStopSQL = """
    UPDATE workers SET state = 'stopped', stopped_at = coalesce($2::timestamptz, now())
    WHERE id = $1
    """

  static let workerSweepStaleSQL = """
    WITH clock AS (SELECT coalesce($2::timestamptz, now()) AS now),
    stale AS (
      UPDATE workers SET state = 'stale', stopped_at = clock.now
      FROM clock
      -- Silent for longer than the floor and than its own lease: a worker heartbeats several
      -- times per lease, so a healthy one with a long lease is never taken for dead.
      WHERE state = 'active' AND heartbeat_at < clock.now
        - greatest($1::float8, coalesce(lease_seconds, 0)) * interval '1 second'
      RETURNING id),
    expired AS (
      UPDATE jobs SET lease_expires_at = clock.now - interval '1 microsecond'
      FROM clock
      WHERE state = 'running' AND lease_owner IN (SELECT id FROM stale)
        AND lease_expires_at >= clock.now
      RETURNING jobs.id)
    SELECT (SELECT array_agg(id ORDER BY id) FROM stale), (SELECT count(*) FROM expired)
    """

  /// Registers a worker process. - Returns: its id, used as the lease owner.
  public func workerRegister(_ params: WorkerRegisterParams, on connection: PostgresConnection)
    throws -> Int64
  {
    try connection.query(
      Self.workerRegisterSQL,
      [
        params.host, params.pid, params.version, params.queues, params.kinds, params.capacity,
        params.now, params.lease?.seconds,
      ], name: "workerRegister"
    ).single().decode(0)
  }

  /// Registers on a pooled connection. See `workerRegister(_:on:)`.
  public func workerRegister(_ params: WorkerRegisterParams) async throws -> Int64 {
    try await withConnection { try self.workerRegister(params, on: $0) }
  }

  /// Records that the worker is alive. - Returns: false if it was stopped (it should exit).
  @discardableResult
  public func workerHeartbeat(id: Int64, now: Date? = nil, on connection: PostgresConnection)
    throws -> Bool
  {
    !(try connection.query(Self.workerHeartbeatSQL, [id, now], name: "workerHeartbeat")).isEmpty
  }

  /// Heartbeats on a pooled connection. See `workerHeartbeat(id:now:on:)`.
  @discardableResult
  public func workerHeartbeat(id: Int64, now: Date? = nil) async throws -> Bool {
    try await withConnection { try self.workerHeartbeat(id: id, now: now, on: $0) }
  }

  /// Marks the worker stopped (a clean exit).
  public func workerStop(id: Int64, now: Date? = nil, on connection: PostgresConnection) throws {
    try connection.query(Self.workerStopSQL, [id, now], name: "workerStop")
  }

  /// Stops on a pooled connection. See `workerStop(id:now:on:)`.
  public func workerStop(id: Int64, now: Date? = nil) async throws {
    try await withConnection { try self.workerStop(id: id, now: now, on: $0) }
  }

  /// Marks silent workers stale and expires their jobs' leases, so the rescuer takes them.
  public func workerSweepStale(_ params: WorkerSweepParams, on connection: PostgresConnection)
    throws -> WorkerSweepResult
  {
    let row = try connection.query(
      Self.workerSweepStaleSQL, [params.staleAfter.seconds, params.now], name: "workerSweepStale"
    ).single()
    return WorkerSweepResult(
      staleWorkers: try row.decode(0, as: [Int64]?.self) ?? [],
      expiredLeases: Int(try row.decode(1, as: Int64.self)))
  }

  /// Sweeps on a pooled connection. See `workerSweepStale(_:on:)`.
  public func workerSweepStale(_ params: WorkerSweepParams) async throws -> WorkerSweepResult {
    try await withConnection { try self.workerSweepStale(params, on: $0) }
  }
}
