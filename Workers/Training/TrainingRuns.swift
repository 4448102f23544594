public import Foundation
public import JobQueue
public import Postgres
import TrolleyBasics
public import TrolleyJobContracts

/// Distributed training runs in the database (`training_runs`) and their jobs: what
/// `trolley train start|list|show|export|resume` read and write.
public struct TrainingRuns: Sendable {
  public let store: JobStore
  public init(store: JobStore) { self.store = store }
  var client: PostgresClient { store.client }

  /// Records the run, stores `RUN/base` and enqueues its R·(K+1) jobs (R·(K+2) with a held-out
  /// split) in batch `train RUN`: the shards of round r depend on merge r−1, merge r on the K
  /// shards of round r, eval r on merge r.
  /// - Returns: the batch id.
  /// `memory` is what a shard (or eval) needs (`ShardMemory`), declared in their payloads.
  public func start(_ settings: TrainingRunSettings, base: [UInt8], memory: Int64? = nil)
    async throws -> Int64
  {
    let json = PostgresJSONB(bytes: Array(try JSONEncoder().encode(settings)))
    let store = self.store
    let batch = try await client.withTransaction { connection -> Int64 in
      let exists = try connection.query(
        "SELECT 1 FROM training_runs WHERE name = $1", [settings.run])
      guard exists.count == 0 else {
        throw JobQueueError(
          .invalidRequest,
          "a training run named \(settings.run) exists; pick another --name or `trolley train resume \(settings.run)`"
        )
      }
      let batch = try store.batchCreate(
        BatchCreateParams(name: "train " + settings.run), on: connection)
      try connection.query(
        "INSERT INTO training_runs (name, settings, batch_id, artifacts_dir) VALUES ($1, $2, $3, $4)",
        [settings.run, json, batch.id, settings.artifacts])
      return batch.id
    }
    try await TrainingArtifacts(client: client, run: settings.run, directory: settings.artifacts)
      .put(settings.run + "/base", base, fence: nil)
    var rows: [JobInsertRow] = []
    for r in 0..<settings.rounds {
      var shardKeys: [String] = []
      for s in 0..<settings.shards {
        let key = "train:\(settings.run):r\(r):s\(s)"
        shardKeys.append(key)
        rows.append(
          JobInsertRow(
            kind: TrainShard.name,
            payload: PostgresJSONB(
              text: try TrainShard.encode(
                .init(settings: settings, round: r, shard: s, memoryBytes: memory))),
            uniqueKey: key,
            dependsOnKeys: r == 0 ? [] : ["train:\(settings.run):r\(r - 1):merge"]))
      }
      rows.append(
        JobInsertRow(
          kind: TrainMerge.name,
          payload: PostgresJSONB(text: try TrainMerge.encode(.init(settings: settings, round: r))),
          uniqueKey: "train:\(settings.run):r\(r):merge", dependsOnKeys: shardKeys))
      // Off the critical path: round r+1 waits for the merge only.
      if settings.evaluates {
        rows.append(
          JobInsertRow(
            kind: TrainEval.name,
            payload: PostgresJSONB(
              text: try TrainEval.encode(.init(settings: settings, round: r, memoryBytes: memory))),
            uniqueKey: "train:\(settings.run):r\(r):eval",
            dependsOnKeys: ["train:\(settings.run):r\(r):merge"]))
      }
    }
    _ = try await store.jobInsertMany(
      JobInsertManyParams(batchID: batch, staged: true), rows: rows)
    return batch
  }

  public struct Run: Sendable {
    public var settings: TrainingRunSettings
    public var batchID: Int64
    public var createdAt: Date
  }

  /// Every run, oldest first.
  public func list() async throws -> [Run] {
    try await client.query(
      "SELECT settings::text, batch_id, created_at FROM training_runs ORDER BY created_at, name"
    ).map { row in
      Run(
        settings: try JSONDecoder().decode(
          TrainingRunSettings.self, from: Data(try row.decode(0, as: String.self).utf8)),
        batchID: try row.decode(1), createdAt: try row.decode(2))
    }
  }

  /// The run named `name`.
  public func run(_ name: String) async throws -> Run {
    guard let run = try await list().first(where: { $0.settings.run == name }) else {
      throw JobQueueError(
        .invalidRequest, "no training run named \(name); `trolley train list` shows the runs")
    }
    return run
  }

  /// One job of a run, as `train show` reports it.
  public struct JobRow: Sendable {
    public var id: Int64
    public var kind: String
    public var state: String
    public var round: Int
    public var shard: Int?
    public var result: String?
    public var lastError: String?
    public var attempt: Int
    public var attemptedAt: Date?
    public var finishedAt: Date?
  }

  /// The run's jobs, by round then shard (merge last in its round).
  public func jobs(_ run: Run) async throws -> [JobRow] {
    try await client.query(
      """
      SELECT id, kind, state::text, (payload->>'round')::int, (payload->>'shard')::int,
             result::text, last_error, attempt, attempted_at, finished_at
      FROM jobs WHERE batch_id = $1
      ORDER BY (payload->>'round')::int, kind = 'train.eval', kind DESC, (payload->>'shard')::int
      """, [run.batchID]
    ).map { row in
      JobRow(
        id: try row.decode(0), kind: try row.decode(1), state: try row.decode(2),
        round: Int(try row.decode(3, as: Int32.self)),
        shard: try row.decode(4, as: Int32?.self).map(Int.init), result: try row.decode(5),
        lastError: try row.decode(6), attempt: Int(try row.decode(7, as: Int32.self)),
        attemptedAt: try row.decode(8), finishedAt: try row.decode(9))
    }
  }

  /// The last round whose checkpoint exists, or nil.
  public func lastMergedRound(_ run: Run) async throws -> Int? {
    let artifacts = TrainingArtifacts(
      client: client, run: run.settings.run, directory: run.settings.artifacts)
    for r in stride(from: run.settings.rounds - 1, through: 0, by: -1) {
      if try await artifacts.sha256(
        of: TrainingArtifactName.checkpoint(run.settings.run, round: r)) != nil
      {
        return r
      }
    }
    return nil
  }

  /// Records an export of round `round` (retention keeps it).
  public func markExported(_ run: Run, round: Int) async throws {
    try await client.query(
      """
      UPDATE training_runs SET exported_rounds = array_append(exported_rounds, $2)
      WHERE name = $1 AND NOT ($2 = ANY(exported_rounds))
      """, [run.settings.run, Int32(round)])
  }

  /// `train resume`: dead jobs of the run back to available with fresh budgets, and the jobs
  /// cancelled because a dependency died back to waiting for it. Returns how many moved.
  public func resume(_ run: Run) async throws -> Int {
    try await client.withTransaction { connection -> Int in
      let revived = try connection.query(
        """
        WITH revived AS (
          UPDATE jobs SET state = 'available', error_count = 0, crash_count = 0,
            finished_at = NULL, cancel_requested_at = NULL, run_at = now()
          WHERE batch_id = $1 AND state = 'dead' RETURNING id)
        SELECT count(*) FROM revived
        """, [run.batchID]
      ).single().decode(0, as: Int64.self)
      let rewaited = try connection.query(
        """
        WITH pending AS (
          SELECT j.id, count(d.depends_on) FILTER (WHERE dj.state <> 'succeeded') AS open
          FROM jobs j
          JOIN job_dependencies d ON d.job_id = j.id
          JOIN jobs dj ON dj.id = d.depends_on
          WHERE j.batch_id = $1 AND j.state = 'cancelled'
          GROUP BY j.id),
        moved AS (
          UPDATE jobs j SET
            state = CASE WHEN p.open > 0 THEN 'waiting'::job_state ELSE 'available'::job_state END,
            pending_dependencies = p.open, finished_at = NULL, cancel_requested_at = NULL,
            run_at = now()
          FROM pending p WHERE j.id = p.id RETURNING j.id)
        SELECT count(*), (SELECT count(*) FROM (SELECT pg_notify('trolley_jobs', 'default')) n)
        FROM moved
        """, [run.batchID]
      ).single().decode(0, as: Int64.self)
      return Int(revived + rewaited)
    }
  }
}
