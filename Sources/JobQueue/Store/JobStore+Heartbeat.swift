public import Foundation
public import Postgres
import TrolleyBasics

/// A worker's periodic report on the jobs it holds.
public struct JobHeartbeatParams: Sendable {
  /// One entry per held job.
  public struct Entry: Sendable, Hashable {
    public var id: Int64
    public var leaseToken: Int64
    /// The job's latest progress, or nil to keep the last one.
    public var progress: Double?

    public init(id: Int64, leaseToken: Int64, progress: Double? = nil) {
      self.id = id
      self.leaseToken = leaseToken
      self.progress = progress
    }
  }

  public var entries: [Entry]
  /// The new lease length from now. Default 30 s.
  public var lease: Duration
  /// The clock; nil: the server's `now()`.
  public var now: Date?

  public init(entries: [Entry], lease: Duration = .seconds(30), now: Date? = nil) {
    self.entries = entries
    self.lease = lease
    self.now = now
  }
}

/// What a heartbeat learned.
public struct JobHeartbeatResult: Sendable, Hashable {
  /// Jobs whose lease was extended.
  public var extended: Set<Int64>
  /// Held jobs an operator asked to cancel: stop them and acknowledge with `.cancelled`.
  public var cancelRequested: Set<Int64>
  /// Jobs whose lease is gone (rescued after expiry, or finished): stop them; any write about
  /// them will be rejected.
  public var lost: Set<Int64>
  /// Jobs still held, whose row another session had locked: not extended this time.
  public var busy: Set<Int64>

  public init(
    extended: Set<Int64> = [], cancelRequested: Set<Int64> = [], lost: Set<Int64> = [],
    busy: Set<Int64> = []
  ) {
    self.extended = extended
    self.cancelRequested = cancelRequested
    self.lost = lost
    self.busy = busy
  }
}

extension JobStore {
  static let jobHeartbeatManySQL = """
    -- Fenced: only rows still running under the caller's token are extended. The token implies
    -- 'running' (jobs_lease_iff_running), and leaving the state out keeps a generic plan on the
    -- primary key (see jobCompleteMany).
    -- SKIP LOCKED: a row another session holds (an operator's open transaction, this worker's own
    -- acknowledgement in flight) is reported busy, not waited for, so one held row never stalls
    -- the heartbeat of every other job (whose leases would then all expire).
    WITH beats AS (
      SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::float8[]) AS h(id, token, progress)),
    held AS (
      SELECT j.id FROM jobs j JOIN beats h ON j.id = h.id AND j.lease_token = h.token),
    free AS (
      SELECT id FROM jobs WHERE id = ANY(ARRAY(SELECT id FROM held)) FOR UPDATE SKIP LOCKED),
    extended AS (
      UPDATE jobs j SET
        lease_expires_at = coalesce($4::timestamptz, now()) + $5::float8 * interval '1 second',
        progress = coalesce(h.progress, j.progress)
      FROM beats h
      WHERE j.id = h.id AND j.lease_token = h.token AND j.id IN (SELECT id FROM free)
      RETURNING j.id, j.cancel_requested_at IS NOT NULL AS cancel)
    SELECT id, cancel, true FROM extended
    UNION ALL
    SELECT id, false, false FROM held WHERE id NOT IN (SELECT id FROM extended)
    """

  /// Extends the leases of every job in `params` in one statement and records their progress.
  /// - Returns: which leases were extended, which jobs should stop because of a cancel, which
  ///   leases were lost, and which rows another session held (not extended this time, not lost).
  public func jobHeartbeatMany(_ params: JobHeartbeatParams, on connection: PostgresConnection)
    throws -> JobHeartbeatResult
  {
    var result = JobHeartbeatResult(extended: [], cancelRequested: [], lost: [], busy: [])
    guard !params.entries.isEmpty else { return result }
    let rows = try connection.query(
      Self.jobHeartbeatManySQL,
      [
        params.entries.map(\.id), params.entries.map(\.leaseToken), params.entries.map(\.progress),
        params.now, params.lease.seconds,
      ], name: "jobHeartbeatMany")
    for row in rows {
      let (id, cancel, extended) = try row.decode((Int64, Bool, Bool).self)
      if extended {
        result.extended.insert(id)
        if cancel { result.cancelRequested.insert(id) }
      } else {
        result.busy.insert(id)
      }
    }
    result.lost = Set(params.entries.map(\.id)).subtracting(result.extended).subtracting(
      result.busy)
    return result
  }

  /// Heartbeats on a pooled connection. See `jobHeartbeatMany(_:on:)`.
  public func jobHeartbeatMany(_ params: JobHeartbeatParams) async throws -> JobHeartbeatResult {
    try await withConnection { try self.jobHeartbeatMany(params, on: $0) }
  }
}
