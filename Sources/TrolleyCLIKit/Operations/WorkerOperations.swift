import Foundation
public import JobQueue
import Postgres
public import TrolleyJobContracts

/// Listing registered worker processes with their recent throughput.
public enum WorkerOperations {
  /// Whole minutes (including the current one) over which jobs per minute are measured.
  public static let throughputMinutes = 5

  /// Active and stale workers, by host and pid.
  public static func list(store: JobStore) async throws -> [WorkerOverview] {
    try await store.workerOverview(minutes: throughputMinutes)
  }

  /// A table of workers.
  public static func table(_ workers: [WorkerOverview]) -> String {
    guard !workers.isEmpty else {
      return "No workers are registered; start one with: trolley worker\n"
    }
    var table = Table(columns: [
      Table.Column("ID", alignRight: true), Table.Column("HOST"),
      Table.Column("PID", alignRight: true), Table.Column("VERSION"), Table.Column("STATE"),
      Table.Column("JOBS", alignRight: true), Table.Column("JOBS/MIN", alignRight: true),
      Table.Column("BEAT", alignRight: true),
    ])
    for worker in workers {
      table.append([
        String(worker.id), worker.host, String(worker.pid), worker.version, worker.state,
        "\(worker.runningJobs)/\(worker.capacity)", Formatting.rate(worker.jobsPerMinute),
        Formatting.duration(worker.heartbeatAgeSeconds),
      ])
    }
    return table.render().joined(separator: "\n") + "\n"
  }

  /// One worker as JSON.
  public static func json(_ worker: WorkerOverview) -> JSONValue {
    .object([
      .init("id", .number(String(worker.id))), .init("host", .string(worker.host)),
      .init("pid", .number(String(worker.pid))), .init("version", .string(worker.version)),
      .init("state", .string(worker.state)),
      .init("capacity", .number(String(worker.capacity))),
      .init("running_jobs", .number(String(worker.runningJobs))),
      .init("heartbeat_age_seconds", .number(Formatting.jsonNumber(worker.heartbeatAgeSeconds))),
      .init("started_at", .string(Formatting.isoTimestamp(worker.startedAt.timeIntervalSince1970))),
      .init("recently_finished", .number(String(worker.recentlyFinished))),
      .init("window_seconds", .number(Formatting.jsonNumber(worker.windowSeconds))),
      .init("jobs_per_minute", .number(Formatting.jsonNumber(worker.jobsPerMinute))),
    ])
  }
}
