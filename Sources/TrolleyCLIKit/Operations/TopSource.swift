import Foundation
public import JobQueue
import Postgres

/// Gathers one `trolley top` screen's worth of facts in one connection round.
public enum TopSource {
  /// Batches shown (newest first).
  public static let batchLimit = 12
  /// Failures shown (newest first).
  public static let failureLimit = 8

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
        failures: failures)
    }
  }
}
