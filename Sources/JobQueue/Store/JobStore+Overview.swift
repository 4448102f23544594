public import Foundation
public import Postgres
import TrolleyBasics

/// Unfinished jobs of one queue by state, and whether the queue is paused.
public struct QueueOverview: Sendable, Hashable {
  public var name: String
  public var paused: Bool
  /// Only unfinished states appear (waiting, scheduled, available, running, retrying).
  public var counts: [JobState: Int64]
}

/// A registered worker as operators see it.
public struct WorkerOverview: Sendable, Hashable {
  public var id: Int64
  public var host: String
  public var pid: Int32
  public var version: String
  /// `active` or `stale`.
  public var state: String
  public var capacity: Int32
  /// Jobs it holds a lease on now.
  public var runningJobs: Int64
  public var heartbeatAgeSeconds: Double
  public var startedAt: Date
  /// Attempts it ended (succeeded, retrying, dead or cancelled; not handed back) within `window`.
  public var recentlyFinished: Int64
  /// The span `recentlyFinished` covers: the last few whole minutes, not before the worker started.
  public var window: Duration

  /// `window` in seconds.
  public var windowSeconds: Double { window.seconds }
  /// Attempts ended per minute over `window` (0 when the window is empty).
  public var jobsPerMinute: Double {
    let seconds = window.seconds
    return seconds > 0 ? Double(recentlyFinished) * 60 / seconds : 0
  }
}

/// A job that failed recently (dead, or waiting to retry) and its error.
public struct RecentFailure: Sendable, Hashable {
  public var jobID: Int64
  public var kind: String
  public var state: JobState
  public var error: String
  public var ageSeconds: Double
}

extension JobStore {
  static let queueOverviewSQL = """
    -- Unfinished states only: their partial indexes keep this small however many jobs finished.
    SELECT coalesce(c.queue, q.name), q.paused_at IS NOT NULL,
      coalesce(json_object_agg(c.state, c.n) FILTER (WHERE c.state IS NOT NULL), '{}'::json)
    FROM (SELECT queue, state::text AS state, count(*) AS n FROM jobs
          WHERE state IN ('waiting', 'scheduled', 'available', 'running', 'retrying')
          GROUP BY 1, 2) c
    FULL JOIN queues q ON q.name = c.queue
    GROUP BY 1, 2
    ORDER BY 1
    """

  static let workerOverviewSQL = """
    -- Throughput comes from worker_minutes (one row per worker and minute, written by the
    -- acknowledgements), over the last $1 minutes including the current one, or since the worker
    -- started if that is later.
    WITH clock AS (SELECT now() AS now, date_trunc('minute', now()) - ($1 - 1) * interval '1 minute' AS since)
    SELECT w.id, w.host, w.pid, w.version, w.state, w.capacity, coalesce(r.n, 0),
      extract(epoch FROM clock.now - w.heartbeat_at)::float8, w.started_at,
      coalesce(m.finished, 0)::bigint,
      greatest(0, extract(epoch FROM clock.now - greatest(clock.since, w.started_at)))::float8
    FROM workers w
    CROSS JOIN clock
    LEFT JOIN (SELECT lease_owner, count(*) AS n FROM jobs WHERE state = 'running'
               GROUP BY 1) r ON r.lease_owner = w.id
    LEFT JOIN (SELECT worker_id, sum(finished) AS finished FROM worker_minutes
               WHERE minute >= (SELECT since FROM clock) GROUP BY 1) m ON m.worker_id = w.id
    WHERE w.state <> 'stopped'
    ORDER BY w.host, w.pid, w.id
    """

  static let recentFailuresSQL = """
    SELECT id, kind, state::text, last_error,
      extract(epoch FROM now() - coalesce(finished_at, attempted_at, created_at))::float8
    FROM jobs
    WHERE state IN ('dead', 'retrying') AND last_error IS NOT NULL
    ORDER BY coalesce(finished_at, attempted_at, created_at) DESC, id DESC
    LIMIT $1
    """

  static let batchTopErrorsSQL = """
    -- Dead jobs only: jobs_dead_idx makes this cheap in a batch of millions of succeeded jobs.
    SELECT last_error, count(*) FROM jobs
    WHERE batch_id = $1 AND state = 'dead' AND last_error IS NOT NULL
    GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT $2
    """

  static let batchListSQL = """
    SELECT id, name, metadata, created_at FROM batches ORDER BY id DESC LIMIT $1
    """

  static let batchMinutesSQL = """
    -- Jobs finished per minute for the last $2 minutes: rolled-up minutes plus pending deltas.
    WITH span AS (
      SELECT generate_series(date_trunc('minute', now()) - ($2 - 1) * interval '1 minute',
                             date_trunc('minute', now()), interval '1 minute') AS minute),
    finished AS (
      SELECT minute, finished FROM batch_minutes
      WHERE batch_id = $1 AND minute >= (SELECT min(minute) FROM span)
      UNION ALL
      SELECT date_trunc('minute', at), delta FROM batch_count_deltas
      WHERE batch_id = $1 AND delta > 0 AND state IN ('succeeded', 'dead', 'cancelled')
        AND at >= (SELECT min(minute) FROM span))
    SELECT s.minute, coalesce(sum(f.finished), 0)::bigint
    FROM span s LEFT JOIN finished f ON f.minute = s.minute
    GROUP BY s.minute ORDER BY s.minute
    """

  /// Every queue that has unfinished jobs or a pause record.
  public func queueOverview(on connection: PostgresConnection) throws -> [QueueOverview] {
    try connection.query(Self.queueOverviewSQL, name: "queueOverview").map { row in
      let raw = try row.decode(2, as: PostgresJSONB.self).decode([String: Int64].self)
      var counts: [JobState: Int64] = [:]
      for (state, count) in raw {
        if let state = JobState(rawValue: state) { counts[state] = count }
      }
      return QueueOverview(name: try row.decode(0), paused: try row.decode(1), counts: counts)
    }
  }

  /// Workers that are active or stale (not stopped), by host and pid, with the attempts each
  /// ended over the last `minutes` whole minutes (including the current one; default 5).
  public func workerOverview(minutes: Int = 5, on connection: PostgresConnection) throws
    -> [WorkerOverview]
  {
    try connection.query(
      Self.workerOverviewSQL, [Int32(max(1, minutes))], name: "workerOverview"
    ).map { row in
      WorkerOverview(
        id: try row.decode(0), host: try row.decode(1), pid: try row.decode(2),
        version: try row.decode(3), state: try row.decode(4), capacity: try row.decode(5),
        runningJobs: try row.decode(6), heartbeatAgeSeconds: try row.decode(7),
        startedAt: try row.decode(8), recentlyFinished: try row.decode(9),
        window: .milliseconds(Int64((try row.decode(10, as: Double.self) * 1000).rounded())))
    }
  }

  /// Workers on a pooled connection. See `workerOverview(minutes:on:)`.
  public func workerOverview(minutes: Int = 5) async throws -> [WorkerOverview] {
    try await withConnection { try self.workerOverview(minutes: minutes, on: $0) }
  }

  /// The most recent failures (dead or retrying jobs with an error), newest first.
  public func jobRecentFailures(limit: Int, on connection: PostgresConnection) throws
    -> [RecentFailure]
  {
    try connection.query(Self.recentFailuresSQL, [Int64(limit)], name: "jobRecentFailures").map {
      row in
      RecentFailure(
        jobID: try row.decode(0), kind: try row.decode(1),
        state: JobState(rawValue: try row.decode(2)) ?? .dead, error: try row.decode(3),
        ageSeconds: try row.decode(4))
    }
  }

  /// The most common errors of a batch's dead jobs, most frequent first.
  public func batchTopErrors(batchID: Int64, limit: Int, on connection: PostgresConnection) throws
    -> [(message: String, count: Int64)]
  {
    try connection.query(Self.batchTopErrorsSQL, [batchID, Int64(limit)], name: "batchTopErrors")
      .map { row in (try row.decode(0), try row.decode(1)) }
  }

  /// The newest batches first.
  public func batchList(limit: Int, on connection: PostgresConnection) throws -> [BatchRecord] {
    try connection.query(Self.batchListSQL, [Int64(limit)], name: "batchList").map(Self.batchRecord)
  }

  /// Jobs of a batch finished in each of the last `minutes` minutes, oldest first.
  public func batchMinutes(batchID: Int64, minutes: Int, on connection: PostgresConnection) throws
    -> [Int64]
  {
    try connection.query(
      Self.batchMinutesSQL, [batchID, Int32(max(1, minutes))], name: "batchMinutes"
    )
    .map { row in try row.decode(1) }
  }
}
