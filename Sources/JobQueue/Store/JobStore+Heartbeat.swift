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

  public init(extended: Set<Int64> = [], cancelRequested: Set<Int64> = [], lost: Set<Int64> = []) {
    self.extended = extended
    self.cancelRequested = cancelRequested
    self.lost = lost
  }
}

extension JobStore {
  static let jobHeartbeatManySQL = """
    -- Fenced: only rows still running under the caller's token are extended; the caller treats
    -- every job not returned as lost. The token implies 'running' (jobs_lease_iff_running), and
    -- leaving the state out keeps a generic plan on the primary key (see jobCompleteMany).
    UPDATE jobs j SET
      lease_expires_at = coalesce($4::timestamptz, now()) + $5::float8 * interval '1 second',
      progress = coalesce(h.progress, j.progress)
    FROM unnest($1::bigint[], $2::bigint[], $3::float8[]) AS h(id, token, progress)
    WHERE j.id = h.id AND j.lease_token = h.token
    RETURNING j.id, j.cancel_requested_at IS NOT NULL
    """

  /// Extends the leases of every job in `params` in one statement and records their progress.
  /// - Returns: which leases were extended, which jobs should stop because of a cancel, and which
  ///   leases were lost.
  public func jobHeartbeatMany(_ params: JobHeartbeatParams, on connection: PostgresConnection)
    throws -> JobHeartbeatResult
  {
    var result = JobHeartbeatResult(extended: [], cancelRequested: [], lost: [])
    guard !params.entries.isEmpty else { return result }
    let rows = try connection.query(
      Self.jobHeartbeatManySQL,
      [
        params.entries.map(\.id), params.entries.map(\.leaseToken), params.entries.map(\.progress),
        params.now, params.lease.seconds,
      ], name: "jobHeartbeatMany")
    for row in rows {
      let (id, cancel) = try row.decode((Int64, Bool).self)
      result.extended.insert(id)
      if cancel { result.cancelRequested.insert(id) }
    }
    result.lost = Set(params.entries.map(\.id)).subtracting(result.extended)
    return result
  }

  /// Heartbeats on a pooled connection. See `jobHeartbeatMany(_:on:)`.
  public func jobHeartbeatMany(_ params: JobHeartbeatParams) async throws -> JobHeartbeatResult {
    try await withConnection { try self.jobHeartbeatMany(params, on: $0) }
  }
}
