import Foundation
public import JobQueue
import Postgres
public import TrolleyJobContracts

/// Job listings and details for people (tables) and for programs (JSON).
public enum JobRendering {
  /// A table of jobs; the last column shows the error, or else the image.
  public static func table(_ jobs: [JobSummary], width: Int?) -> String {
    var table = Table(columns: [
      Table.Column("ID", alignRight: true), Table.Column("STATE"), Table.Column("KIND"),
      Table.Column("TRIES", alignRight: true), Table.Column("BATCH", alignRight: true),
      Table.Column("IMAGE / ERROR", flexible: true),
    ])
    for job in jobs {
      let detail =
        job.lastError.map { "error: " + $0 } ?? image(of: job.payload) ?? job.payload.text
      table.append([
        String(job.id), job.state.rawValue, job.kind, "\(job.attempt)/\(job.maxAttempts)",
        job.batchID.map(String.init) ?? "-", detail,
      ])
    }
    return table.render(width: width).joined(separator: "\n") + "\n"
  }

  static func image(of payload: PostgresJSONB) -> String? {
    (try? JSONParser.parse(payload.text))?["image"]?.stringValue
  }

  static func json(_ text: String?) -> JSONValue {
    guard let text else { return .null }
    return (try? JSONParser.parse(text)) ?? .string(text)
  }

  static func time(_ date: Date?) -> JSONValue {
    date.map { .string(Formatting.isoTimestamp($0.timeIntervalSince1970)) } ?? .null
  }

  /// One listed job as JSON.
  public static func json(_ job: JobSummary) -> JSONValue {
    .object([
      .init("id", .number(String(job.id))), .init("queue", .string(job.queue)),
      .init("kind", .string(job.kind)), .init("state", .string(job.state.rawValue)),
      .init("attempt", .number(String(job.attempt))),
      .init("max_attempts", .number(String(job.maxAttempts))),
      .init("batch_id", job.batchID.map { .number(String($0)) } ?? .null),
      .init("payload", json(job.payload.text)),
      .init("error", job.lastError.map(JSONValue.string) ?? .null),
      .init("created_at", time(job.createdAt)), .init("finished_at", time(job.finishedAt)),
    ])
  }

  /// A job's full record (and crash evidence) as JSON.
  public static func json(_ job: JobRecord, crashes: [JobCrash]) -> JSONValue {
    .object([
      .init("id", .number(String(job.id))), .init("queue", .string(job.queue)),
      .init("kind", .string(job.kind)), .init("state", .string(job.state.rawValue)),
      .init("priority", .number(String(job.priority))),
      .init("attempt", .number(String(job.attempt))),
      .init("max_attempts", .number(String(job.maxAttempts))),
      .init("error_count", .number(String(job.errorCount))),
      .init("crash_count", .number(String(job.crashCount))),
      .init("max_crashes", .number(String(job.maxCrashes))),
      .init("progress", job.progress.map { .number(Formatting.jsonNumber($0)) } ?? .null),
      .init("batch_id", job.batchID.map { .number(String($0)) } ?? .null),
      .init("unique_key", job.uniqueKey.map(JSONValue.string) ?? .null),
      .init("payload", json(job.payload.text)), .init("result", json(job.result?.text)),
      .init("error", job.lastError.map(JSONValue.string) ?? .null),
      .init("run_at", time(job.runAt)), .init("created_at", time(job.createdAt)),
      .init("attempted_at", time(job.attemptedAt)), .init("finished_at", time(job.finishedAt)),
      .init("finished_by_worker", job.finishedBy.map { .number(String($0)) } ?? .null),
      .init("lease_expires_at", time(job.leaseExpiresAt)),
      .init("cancel_requested_at", time(job.cancelRequestedAt)),
      .init(
        "crashes",
        .array(
          crashes.map { crash in
            .object([
              .init("attempt", .number(String(crash.attempt))),
              .init("host", crash.host.map(JSONValue.string) ?? .null),
              .init("pid", crash.pid.map { .number(String($0)) } ?? .null),
              .init("claimed_at", time(crash.claimedAt)),
              .init("lease_expired_at", time(crash.leaseExpiredAt)),
            ])
          })),
    ])
  }

  /// A job's full record as `key: value` lines.
  public static func detail(_ job: JobRecord, crashes: [JobCrash]) -> String {
    guard case .object(let members) = json(job, crashes: crashes) else { return "" }
    var lines: [String] = []
    for member in members {
      switch member.value {
      case .null: continue
      case .array(let items) where items.isEmpty: continue
      case .string(let text): lines.append("\(member.key): \(text)")
      default: lines.append("\(member.key): \(member.value.text)")
      }
    }
    return lines.joined(separator: "\n") + "\n"
  }
}
