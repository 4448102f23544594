import Foundation
public import JobQueue
import Postgres

/// Gathers one `trolley top` screen's worth of facts in one connection round.
public enum TopSource {
  /// Batches shown (newest first).
  public static let batchLimit = 12
  /// Failures shown (newest first).
  public static let failureLimit = 8

  /// Training runs shown (newest first).
  public static let trainingRunLimit = 6

  static let trainingRunsSQL = """
    -- Runs with a job still in play: the first round whose merge has not succeeded, its shards
    -- done, and the mean shard loss of the last merged round.
    WITH runs AS (
      SELECT t.name, t.batch_id, t.created_at, (t.settings->>'rounds')::int AS rounds,
        (t.settings->>'shards')::int AS shards
      FROM training_runs t
      WHERE EXISTS (SELECT 1 FROM jobs j WHERE j.batch_id = t.batch_id
                    AND j.state IN ('waiting', 'scheduled', 'available', 'running', 'retrying'))
      ORDER BY t.created_at DESC LIMIT $1),
    rounds AS (
      SELECT r.name,
        (SELECT min((j.payload->>'round')::int) FROM jobs j WHERE j.batch_id = r.batch_id
           AND j.kind = 'train.merge' AND j.state <> 'succeeded') AS current,
        (SELECT max((j.payload->>'round')::int) FROM jobs j WHERE j.batch_id = r.batch_id
           AND j.kind = 'train.merge' AND j.state = 'succeeded') AS merged
      FROM runs r)
    SELECT r.name, coalesce(x.current, r.rounds), r.rounds,
      (SELECT count(*) FROM jobs j WHERE j.batch_id = r.batch_id AND j.kind = 'train.shard'
         AND j.state = 'succeeded' AND (j.payload->>'round')::int = x.current),
      r.shards,
      (SELECT avg((j.result->>'loss')::float8) FROM jobs j WHERE j.batch_id = r.batch_id
         AND j.kind = 'train.shard' AND (j.payload->>'round')::int = x.merged),
      (SELECT count(*) FROM jobs j WHERE j.batch_id = r.batch_id AND j.state = 'dead')
    FROM runs r JOIN rounds x ON x.name = r.name
    ORDER BY r.created_at DESC
    """

  /// The training runs still in play, newest first.
  static func trainingRuns(on connection: PostgresConnection) throws -> [TopSnapshot.TrainingRun] {
    try connection.query(trainingRunsSQL, [Int64(trainingRunLimit)], name: "topTrainingRuns").map {
      row in
      TopSnapshot.TrainingRun(
        name: try row.decode(0), round: Int(try row.decode(1, as: Int32.self)),
        rounds: Int(try row.decode(2, as: Int32.self)),
        shardsDone: Int(try row.decode(3, as: Int64.self)),
        shards: Int(try row.decode(4, as: Int32.self)), lastLoss: try row.decode(5),
        dead: Int(try row.decode(6, as: Int64.self)))
    }
  }

  /// A snapshot of queues, batches, workers and recent failures.
  public static func snapshot(store: JobStore) async throws -> TopSnapshot {
    try await store.client.withConnection { connection in
      let queues = try store.queueOverview(on: connection).map { queue in
        TopSnapshot.Queue(
          name: queue.name, paused: queue.paused, available: queue.counts[.available] ?? 0,
          running: queue.counts[.running] ?? 0,
          waiting: (queue.counts[.scheduled] ?? 0) + (queue.counts[.retrying] ?? 0)
            + (queue.counts[.waiting] ?? 0))
      }
      let batches = try store.batchList(limit: batchLimit, on: connection).map {
        try BatchOverview.summary(of: $0, store: store, on: connection)
      }
      let workers = try store.workerOverview(on: connection).map { worker in
        TopSnapshot.Worker(
          host: worker.host, pid: Int64(worker.pid), currentJobs: worker.runningJobs,
          capacity: Int64(worker.capacity), heartbeatAgeSeconds: worker.heartbeatAgeSeconds,
          stale: worker.state != "active", jobsPerMinute: worker.jobsPerMinute)
      }
      let failures = try store.jobRecentFailures(limit: failureLimit, on: connection).map {
        failure in
        TopSnapshot.Failure(
          jobID: failure.jobID, kind: failure.kind, ageSeconds: failure.ageSeconds,
          error: (failure.state == .retrying ? "(retrying) " : "") + failure.error)
      }
      return TopSnapshot(
        time: Date().timeIntervalSince1970, queues: queues, batches: batches, workers: workers,
        failures: failures, trainingRuns: try trainingRuns(on: connection))
    }
  }
}
