public import Foundation
public import Postgres
import TrolleyBasics

/// One job to enqueue: a row of a bulk enqueue (`jobInsertMany`), or the job of a
/// `JobInsertParams`.
public struct JobInsertRow: Sendable, Hashable {
  /// The queue; workers claim from named queues.
  public var queue: String
  /// The job kind's stable name (`noop`, `trol.answer`...).
  public var kind: String
  /// The payload, a JSON object the kind decodes.
  public var payload: PostgresJSONB
  /// Lower runs first. Default 0.
  public var priority: Int16
  /// Earliest start; nil or past: now. In the future: the job starts `scheduled`.
  public var runAt: Date?
  /// Error budget: errors before the job is dead. Default 5, at least 1.
  public var maxAttempts: Int32
  /// Crash budget: expired leases before the job is quarantined. Default 3, at least 1.
  public var maxCrashes: Int32
  /// A key unique among existing jobs; enqueueing it again adds nothing.
  public var uniqueKey: String?
  /// Existing jobs, by id, that must succeed before this one becomes available.
  public var dependsOn: [Int64]
  /// Jobs, by unique key, that must succeed first: the existing job with that key, or else the
  /// first earlier row of the same call with it (a later row cannot be named, so no cycle forms).
  public var dependsOnKeys: [String]

  public init(
    queue: String = "default", kind: String, payload: PostgresJSONB = PostgresJSONB(text: "{}"),
    priority: Int16 = 0, runAt: Date? = nil, maxAttempts: Int32 = 5, maxCrashes: Int32 = 3,
    uniqueKey: String? = nil, dependsOn: [Int64] = [], dependsOnKeys: [String] = []
  ) {
    self.queue = queue
    self.kind = kind
    self.payload = payload
    self.priority = priority
    self.runAt = runAt
    self.maxAttempts = maxAttempts
    self.maxCrashes = maxCrashes
    self.uniqueKey = uniqueKey
    self.dependsOn = dependsOn
    self.dependsOnKeys = dependsOnKeys
  }

  /// Whether the row needs the staged path (a unique key, a start time or dependencies).
  var needsStaging: Bool {
    uniqueKey != nil || runAt != nil || !dependsOn.isEmpty || !dependsOnKeys.isEmpty
  }

  var hasDependencies: Bool { !dependsOn.isEmpty || !dependsOnKeys.isEmpty }
}

/// Settings shared by every row of a bulk enqueue.
public struct JobInsertManyParams: Sendable {
  /// The batch every row joins, if any.
  public var batchID: Int64?
  /// The clock for `run_at` decisions; nil: the server's `now()`.
  public var now: Date?
  /// Take the staged path even when the first row has no unique key, start time or
  /// dependencies (needed when later rows have them). Default false: the first row decides.
  public var staged: Bool

  public init(batchID: Int64? = nil, now: Date? = nil, staged: Bool = false) {
    self.batchID = batchID
    self.now = now
    self.staged = staged
  }
}

/// What `jobInsertMany` did.
public struct JobInsertManyResult: Sendable, Hashable {
  /// Jobs added.
  public var added: Int
  /// Rows skipped because their unique key was already used (by an existing job or an earlier
  /// row of the same call).
  public var skipped: Int
}

extension JobStore {
  /// The fast path: rows without unique keys or start times go straight into `jobs`.
  static let jobCopyDirectSQL = """
    COPY jobs (queue, kind, payload, priority, max_attempts, max_crashes, batch_id) FROM STDIN
    """

  static let jobStagingCreateSQL = """
    -- Temporary (no WAL), per session. Emptied at the start of every call too: ON COMMIT DELETE
    -- ROWS alone would keep a first call's rows for a second call in the same caller transaction.
    CREATE TEMP TABLE IF NOT EXISTS job_insert_rows (
      queue text, kind text, payload jsonb, priority smallint, run_at_epoch double precision,
      max_attempts integer, max_crashes integer, unique_key text, ordinal bigint,
      depends_on bigint[], depends_on_keys text[], id bigint
    ) ON COMMIT DELETE ROWS;
    CREATE TEMP TABLE IF NOT EXISTS job_insert_edges (
      job_ordinal bigint, job_id bigint, depends_on bigint, via_key text
    ) ON COMMIT DELETE ROWS;
    TRUNCATE job_insert_rows, job_insert_edges
    """

  static let jobCopyStagingSQL = """
    COPY job_insert_rows (queue, kind, payload, priority, run_at_epoch, max_attempts, max_crashes,
                          unique_key, ordinal, depends_on, depends_on_keys) FROM STDIN
    """

  static let jobInsertFromStagingSQL = """
    -- COPY cannot skip conflicts, so keyed rows go through a temporary table (no WAL) and this
    -- INSERT ... ON CONFLICT DO NOTHING; ORDER BY keeps the caller's order in the ids.
    WITH clock AS (SELECT coalesce($2::timestamptz, now()) AS now)
    INSERT INTO jobs (queue, kind, payload, priority, run_at, state, max_attempts, max_crashes,
                      batch_id, unique_key)
    SELECT s.queue, s.kind, s.payload, s.priority,
      coalesce(to_timestamp(s.run_at_epoch), clock.now),
      (CASE WHEN to_timestamp(s.run_at_epoch) > clock.now THEN 'scheduled' ELSE 'available' END)::job_state,
      s.max_attempts, s.max_crashes, $1, s.unique_key
    FROM job_insert_rows s, clock
    -- A key whose job was pruned stays used (retention keeps it in job_keys_retired).
    WHERE s.unique_key IS NULL
      OR NOT EXISTS (SELECT 1 FROM job_keys_retired r WHERE r.unique_key = s.unique_key)
    ORDER BY s.ordinal
    ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL DO NOTHING
    """

  static let jobNotifyQueuesSQL = """
    SELECT pg_notify('trolley_jobs', q) FROM unnest($1::text[]) AS q
    """

  /// Enqueues many jobs in one streamed COPY, in constant memory, in one transaction (nested in
  /// the caller's if one is open), and notifies each queue once.
  ///
  /// Rows without unique keys, start times or dependencies are copied straight into `jobs` (the
  /// fast path, COPY speed); if the first row has one of them (or `params.staged`), all rows go
  /// through a temporary table and `ON CONFLICT DO NOTHING`, and duplicates are counted as
  /// skipped. Rows with dependencies start `waiting` (or `cancelled`, naming the culprit, when a
  /// dependency already ended dead or cancelled, which cascades to their own dependents in the
  /// call), as `jobInsert` does.
  /// - Parameters:
  ///   - params: the batch and the clock.
  ///   - rows: read once, lazily.
  /// - Throws: `JobQueueError.Code.invalidRequest` when a row is malformed or, on the fast path,
  ///   a later row has a unique key, start time or dependencies; `.dependencyNotFound` for a
  ///   dependency id no job has or a key no existing job nor earlier row has (nothing is added
  ///   then); `PostgresError`.
  public func jobInsertMany(
    _ params: JobInsertManyParams, rows: some Sequence<JobInsertRow>,
    on connection: PostgresConnection
  ) throws -> JobInsertManyResult {
    var iterator = rows.makeIterator()
    guard let first = iterator.next() else { return JobInsertManyResult(added: 0, skipped: 0) }
    let staged = params.staged || first.needsStaging
    var queues: Set<String> = []
    return try connection.withTransaction { connection in
      var copied = 0
      var added = 0
      if staged {
        var dependencies = false
        try connection.execute(Self.jobStagingCreateSQL, name: "jobStagingCreate")
        copied = try connection.copyFrom(Self.jobCopyStagingSQL, name: "jobCopyStaging") { writer in
          var next: JobInsertRow? = first
          var ordinal = 0
          while let row = next {
            try Self.validate(row)
            queues.insert(row.queue)
            dependencies = dependencies || row.hasDependencies
            try writer.writeRow([
              row.queue, row.kind, row.payload.text, String(row.priority),
              row.runAt.map { String($0.timeIntervalSince1970) }, String(row.maxAttempts),
              String(row.maxCrashes), row.uniqueKey, String(ordinal),
              Self.arrayLiteral(row.dependsOn.map { String($0) }, quoted: false),
              Self.arrayLiteral(row.dependsOnKeys, quoted: true),
            ])
            ordinal += 1
            next = iterator.next()
          }
        }
        if dependencies {
          added = try insertStagedWithDependencies(params, on: connection)
        } else {
          added = try connection.query(
            Self.jobInsertFromStagingSQL, [params.batchID, params.now],
            name: "jobInsertFromStaging"
          ).affectedRowCount
        }
      } else {
        copied = try connection.copyFrom(Self.jobCopyDirectSQL, name: "jobCopyDirect") { writer in
          var encoder = CopyRowEncoder()
          // The columns after the payload, formatted once per run of equal settings.
          var tail: [UInt8] = []
          var tailKey: (Int16, Int32, Int32)? = nil
          var lastQueue: String? = nil
          var rowNumber = 0
          var next: JobInsertRow? = first
          while let row = next {
            rowNumber += 1
            try Self.validate(row)
            guard !row.needsStaging else {
              throw JobQueueError(
                .invalidRequest,
                "Rows of one bulk enqueue must agree: the first row has no unique key, start time "
                  + "or dependencies, but row \(rowNumber) has one. Put such a row first, or pass "
                  + "JobInsertManyParams(staged: true).")
            }
            if row.queue != lastQueue {
              queues.insert(row.queue)
              lastQueue = row.queue
            }
            let key = (row.priority, row.maxAttempts, row.maxCrashes)
            if tailKey.map({ $0 != key }) ?? true {
              var settings = CopyRowEncoder()
              settings.tab()
              settings.integer(row.priority)
              settings.tab()
              settings.integer(row.maxAttempts)
              settings.tab()
              settings.integer(row.maxCrashes)
              settings.tab()
              if let batch = params.batchID { settings.integer(batch) } else { settings.null() }
              settings.newline()
              tail = settings.bytes
              tailKey = key
            }
            encoder.reset()
            encoder.text(row.queue)
            encoder.tab()
            encoder.text(row.kind)
            encoder.tab()
            encoder.text(utf8: row.payload.bytes)
            encoder.raw(tail)
            try writer.write(encoder.bytes)
            next = iterator.next()
          }
        }
        added = copied
      }
      try connection.query(Self.jobNotifyQueuesSQL, [Array(queues)], name: "jobNotifyQueues")
      return JobInsertManyResult(added: added, skipped: copied - added)
    }
  }

  /// Enqueues many jobs on a pooled connection. See `jobInsertMany(_:rows:on:)`. The rows may be
  /// a lazy, non-`Sendable` sequence: it is handed over to the connection's thread and read there.
  public func jobInsertMany<Rows: Sequence<JobInsertRow>>(
    _ params: JobInsertManyParams, rows: sending Rows
  ) async throws -> JobInsertManyResult {
    let handover = Handover(AnySequence(rows))
    return try await withConnection {
      try self.jobInsertMany(params, rows: handover.take(), on: $0)
    }
  }
}

/// Moves a value the caller gave up (`sending`) into a `@Sendable` closure that runs once.
private final class Handover<Value>: @unchecked Sendable {
  private var value: Value?
  init(_ value: sending Value) { self.value = value }
  func take() -> Value {
    defer { value = nil }
    guard let value else { preconditionFailure("Handover.take() called twice") }
    return value
  }
}
