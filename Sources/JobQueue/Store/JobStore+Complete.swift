public import Foundation
public import Postgres
import TrolleyBasics

/// How one attempt of a job ended, as its lease holder reports it.
public enum JobOutcome: Sendable, Hashable {
  /// Done; `result` (a JSON value) is stored.
  case succeeded(result: PostgresJSONB)
  /// A transient error: retry after `retryDelay` if the error budget has room, else dead.
  case failed(error: String, retryDelay: Duration)
  /// Bad input or another error no retry can fix: dead at once, with the message.
  case failedPermanently(error: String)
  /// Stopped after a cancel request (or by the kind itself).
  case cancelled(reason: String?)
  /// Not finished: the worker is shutting down. Back to available; no budget is charged.
  case handedBack
}

/// One job's report: which attempt (id and fencing token) and how it ended.
public struct JobCompletion: Sendable, Hashable {
  public var id: Int64
  public var leaseToken: Int64
  public var outcome: JobOutcome

  public init(id: Int64, leaseToken: Int64, outcome: JobOutcome) {
    self.id = id
    self.leaseToken = leaseToken
    self.outcome = outcome
  }

  /// The completion of a claimed job.
  public init(_ job: ClaimedJob, _ outcome: JobOutcome) {
    self.init(id: job.id, leaseToken: job.leaseToken, outcome: outcome)
  }
}

/// Many reports acknowledged in one statement.
public struct JobCompleteManyParams: Sendable {
  public var completions: [JobCompletion]
  /// The clock; nil: the server's `now()`.
  public var now: Date?
  /// How long the statement may wait for a row lock (another session holding a job's row, as an
  /// operator's open transaction might) before it fails with SQLSTATE 55P03 and can be retried;
  /// nil: the session's setting. Default 10 s. Within a caller's transaction it stays set until
  /// that transaction ends.
  public var lockTimeout: Duration?

  public init(
    completions: [JobCompletion], now: Date? = nil, lockTimeout: Duration? = .seconds(10)
  ) {
    self.completions = completions
    self.now = now
    self.lockTimeout = lockTimeout
  }
}

/// What an acknowledgement did.
public struct JobCompleteManyResult: Sendable, Hashable {
  /// The state each accepted job is in now.
  public var applied: [Int64: JobState]
  /// Jobs whose report was rejected because the lease was lost (changed nothing).
  public var rejected: Set<Int64>
  /// Dependents that became available.
  public var releasedDependents: Int
  /// Dependents cancelled because a dependency ended dead or cancelled.
  public var cancelledDependents: Int

  public init(
    applied: [Int64: JobState] = [:], rejected: Set<Int64> = [], releasedDependents: Int = 0,
    cancelledDependents: Int = 0
  ) {
    self.applied = applied
    self.rejected = rejected
    self.releasedDependents = releasedDependents
    self.cancelledDependents = cancelledDependents
  }
}

extension JobStore {
  /// The state a reported outcome leads to (the edges `complete`, `failRetryable`, `failFinal`,
  /// `acknowledgeCancel` and `handBack` of docs/queue.md). A pending cancel request wins over
  /// everything but success.
  static let completionTargetState = """
    (CASE
      WHEN r.outcome = 'succeeded' THEN 'succeeded'
      WHEN r.outcome = 'cancelled' OR j.cancel_requested_at IS NOT NULL THEN 'cancelled'
      WHEN r.outcome = 'handed_back' THEN 'available'
      WHEN r.outcome = 'permanent' OR j.error_count + 1 >= j.max_attempts THEN 'dead'
      ELSE 'retrying'
    END)::job_state
    """

  static let jobCompleteManySQL = """
    -- set_config(..., true) lasts until the end of the transaction (this statement's, outside a
    -- transaction block); the CTE is scanned before the UPDATE locks its first row.
    WITH clock AS (
      SELECT coalesce($7::timestamptz, now()) AS now,
        set_config('lock_timeout', coalesce($8::text, current_setting('lock_timeout')), true)),
    reported AS (
      SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::jsonb[], $5::text[],
                           $6::float8[]) AS r(id, token, outcome, result, error, retry_delay)),
    -- Fenced: only a row still running under the reporter's token changes; a zombie whose lease
    -- was taken over matches nothing and is told so. The token alone implies 'running' (the
    -- jobs_lease_iff_running CHECK), and leaving the state out of the WHERE keeps the planner on
    -- the primary key: with it, a generic plan walks jobs_lease_idx and its dead entries.
    done AS (
      UPDATE jobs j SET
        state = \(completionTargetState),
        result = CASE WHEN r.outcome = 'succeeded' THEN r.result ELSE j.result END,
        error_count = j.error_count
          + (CASE WHEN r.outcome IN ('error', 'permanent') THEN 1 ELSE 0 END),
        last_error = CASE
          WHEN r.outcome IN ('error', 'permanent') THEN r.error
          WHEN \(completionTargetState) = 'cancelled' THEN coalesce(r.error, 'cancelled')
          ELSE j.last_error END,
        run_at = CASE WHEN r.outcome = 'error'
          THEN clock.now + r.retry_delay * interval '1 second' ELSE j.run_at END,
        finished_at = CASE WHEN \(completionTargetState) IN ('succeeded', 'dead', 'cancelled')
          THEN clock.now END,
        -- SET sees the old row: the lease owner whose report this is.
        finished_by = CASE WHEN r.outcome = 'handed_back' THEN j.finished_by ELSE j.lease_owner END,
        lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL
      FROM reported r, clock
      WHERE j.id = r.id AND j.lease_token = r.token
      RETURNING j.id, j.state, j.has_dependents, j.queue, j.finished_by,
        r.outcome = 'handed_back' AS handed_back),
    -- Per-worker throughput: one upsert per statement, on a row only this worker writes. Not
    -- referenced below, so it runs last and its row lock is the last one this statement takes.
    tallied AS (
      INSERT INTO worker_minutes (worker_id, minute, finished)
      SELECT finished_by, date_trunc('minute', (SELECT now FROM clock)), count(*)
      FROM done WHERE NOT handed_back AND finished_by IS NOT NULL
      GROUP BY 1
      ON CONFLICT (worker_id, minute)
        DO UPDATE SET finished = worker_minutes.finished + excluded.finished),
    handed AS (
      SELECT pg_notify('trolley_jobs', q.queue)
      FROM (SELECT DISTINCT queue FROM done WHERE state = 'available') q)
    -- One row of arrays (aligned: both aggregates read the same rows in the same order), not a
    -- row per job: the worker decodes 2 values per statement instead of 5 per job. The third
    -- names the ended jobs whose dependents jobSettleDependents settles next.
    SELECT array_agg(done.id), array_agg(done.state::text),
      array_agg(done.id) FILTER (WHERE done.has_dependents
        AND done.state IN ('succeeded', 'dead', 'cancelled')),
      (SELECT count(*) FROM handed)
    FROM done
    """

  /// Acknowledges many jobs in one statement (batched acknowledgements), fenced by each job's
  /// lease token, then settles their dependents (if any) in a second statement that sees every
  /// edge committed meanwhile (see `jobSettleDependentsSQL`). Outside a transaction each commits
  /// on its own; if the process dies between them, the `DependencyReconciler` settles later.
  /// - Returns: the new state of each accepted job and the ids rejected for a lost lease.
  ///
  /// Reports the database cannot store never block the others: `\u0000` in a result (jsonb
  /// rejects it) becomes U+FFFD and NUL in an error text is dropped; if a statement still fails
  /// for a value (SQLSTATE classes 22 and 54), the batch is split in halves until the culprit is
  /// alone, and that job fails permanently with a message saying why its report was unstorable.
  public func jobCompleteMany(_ params: JobCompleteManyParams, on connection: PostgresConnection)
    throws -> JobCompleteManyResult
  {
    var result = JobCompleteManyResult(
      applied: [:], rejected: [], releasedDependents: 0, cancelledDependents: 0)
    guard !params.completions.isEmpty else { return result }
    let completions = params.completions.map(StorableOutcome.sanitized)
    try completeSplitting(completions, params: params, into: &result, on: connection)
    if result.applied.count + result.rejected.count < completions.count {
      result.rejected = Set(completions.map(\.id)).subtracting(result.applied.keys)
    }
    return result
  }

  /// Runs one statement for `completions`; on a failure caused by a value, splits them.
  private func completeSplitting(
    _ completions: [JobCompletion], params: JobCompleteManyParams,
    into result: inout JobCompleteManyResult, on connection: PostgresConnection
  ) throws {
    do {
      // Inside a caller's transaction this is a savepoint, so a rejected value does not abort
      // the caller's transaction; outside one it is the statement alone.
      let part =
        connection.isInTransaction
        ? try connection.withTransaction { try completeOnce(completions, params: params, on: $0) }
        : try completeOnce(completions, params: params, on: connection)
      result.applied.merge(part.applied) { _, new in new }
      result.rejected.formUnion(part.rejected)
      result.releasedDependents += part.releasedDependents
      result.cancelledDependents += part.cancelledDependents
    } catch let error as PostgresError where StorableOutcome.isUnstorable(error) {
      if completions.count > 1 {
        let half = completions.count / 2
        try completeSplitting(
          Array(completions[..<half]), params: params, into: &result, on: connection)
        try completeSplitting(
          Array(completions[half...]), params: params, into: &result, on: connection)
        return
      }
      let culprit = completions[0]
      if case .failedPermanently(let message) = culprit.outcome,
        message.hasPrefix(StorableOutcome.unstorablePrefix)
      {
        throw error  // even the replacement report fails: nothing more to strip
      }
      let replacement = JobCompletion(
        id: culprit.id, leaseToken: culprit.leaseToken,
        outcome: .failedPermanently(error: StorableOutcome.message(for: culprit.outcome, error)))
      try completeSplitting([replacement], params: params, into: &result, on: connection)
    }
  }

  private func completeOnce(
    _ completions: [JobCompletion], params: JobCompleteManyParams,
    on connection: PostgresConnection
  ) throws -> JobCompleteManyResult {
    var result = JobCompleteManyResult(
      applied: [:], rejected: [], releasedDependents: 0, cancelledDependents: 0)
    var ids: [Int64] = []
    var tokens: [Int64] = []
    var outcomes: [String] = []
    var results: [PostgresJSONB?] = []
    var errors: [String?] = []
    var delays: [Double?] = []
    for completion in completions {
      ids.append(completion.id)
      tokens.append(completion.leaseToken)
      switch completion.outcome {
      case .succeeded(let value):
        outcomes.append("succeeded")
        results.append(value)
        errors.append(nil)
        delays.append(nil)
      case .failed(let error, let delay):
        outcomes.append("error")
        results.append(nil)
        errors.append(error)
        delays.append(max(0, delay.seconds))
      case .failedPermanently(let error):
        outcomes.append("permanent")
        results.append(nil)
        errors.append(error)
        delays.append(nil)
      case .cancelled(let reason):
        outcomes.append("cancelled")
        results.append(nil)
        errors.append(reason)
        delays.append(nil)
      case .handedBack:
        outcomes.append("handed_back")
        results.append(nil)
        errors.append(nil)
        delays.append(nil)
      }
    }
    let lockTimeout = params.lockTimeout.map { "\(max(1, Int(($0.seconds * 1000).rounded())))ms" }
    let rows = try connection.query(
      Self.jobCompleteManySQL,
      [ids, tokens, outcomes, results, errors, delays, params.now, lockTimeout],
      name: "jobCompleteMany")
    let row = try rows.single()
    let applied = try row.decode(0, as: [Int64]?.self) ?? []
    let states = try row.decode(1, as: [String]?.self) ?? []
    result.applied.reserveCapacity(applied.count)
    for (id, state) in zip(applied, states) {
      result.applied[id] = JobState(rawValue: state)
    }
    let ended = try row.decode(2, as: [Int64]?.self) ?? []
    let settled = try jobSettleDependents(of: ended, now: params.now, on: connection)
    result.releasedDependents = settled.released
    result.cancelledDependents = settled.cancelled
    if applied.count < ids.count {
      result.rejected = Set(ids).subtracting(result.applied.keys)
    }
    return result
  }

  /// Acknowledges on a pooled connection. See `jobCompleteMany(_:on:)`.
  public func jobCompleteMany(_ params: JobCompleteManyParams) async throws
    -> JobCompleteManyResult
  {
    try await withConnection { try self.jobCompleteMany(params, on: $0) }
  }

  /// Acknowledges one job.
  /// - Returns: the job's new state.
  /// - Throws: `JobQueueError.Code.leaseLost` when the lease was taken over (nothing changed).
  @discardableResult
  public func jobComplete(_ completion: JobCompletion, now: Date? = nil) async throws -> JobState {
    let result = try await jobCompleteMany(.init(completions: [completion], now: now))
    guard let state = result.applied[completion.id] else {
      throw JobQueueError(
        .leaseLost,
        "Job \(completion.id): the lease with token \(completion.leaseToken) is no longer held "
          + "(it expired and was rescued, or the job finished); the report was rejected")
    }
    return state
  }
}
