import Foundation
public import JobQueue
import Postgres
import TrolleyBasics
public import TrolleyJobContracts

/// Reads batches from the queue and turns them into `BatchSummary` values for rendering.
public enum BatchOverview {
  /// Minutes of history for throughput and the sparkline.
  public static let minutes = 5
  /// Errors listed per batch.
  public static let errorCount = 5

  /// Finds a batch by id (digits) or by name.
  /// - Throws: `CLIError.notFound` naming what to run to see the batches.
  public static func resolve(_ reference: String, store: JobStore) async throws -> BatchRecord {
    let id = Int64(reference)
    let found = try await store.batchGet(id: id, name: id == nil ? reference : nil)
    if let found { return found }
    if id != nil, let named = try await store.batchGet(name: reference) { return named }
    throw CLIError(
      .notFound, "no batch has the id or name \"\(reference)\". List batches with: trolley batches")
  }

  /// The full summary of one batch: exact counts, throughput, ETA and most common errors.
  public static func summary(of batch: BatchRecord, store: JobStore) async throws -> BatchSummary {
    try await store.client.withConnection { connection in
      try summary(of: batch, store: store, on: connection)
    }
  }

  /// The newest `limit` batches, each summarized.
  public static func list(limit: Int, store: JobStore) async throws -> [BatchSummary] {
    try await store.client.withConnection { connection in
      try store.batchList(limit: limit, on: connection).map {
        try summary(of: $0, store: store, on: connection)
      }
    }
  }

  static func summary(of batch: BatchRecord, store: JobStore, on connection: PostgresConnection)
    throws
    -> BatchSummary
  {
    let progress = try store.batchProgress(
      BatchProgressParams(batchID: batch.id, minutes: minutes), on: connection)
    let perMinute = try store.batchMinutes(batchID: batch.id, minutes: minutes, on: connection)
    let errors = try store.batchTopErrors(batchID: batch.id, limit: errorCount, on: connection)
    return BatchSummary(
      progress: progress, recentPerMinute: perMinute.map(Double.init), errors: errors)
  }
}

extension BatchSummary {
  /// A summary from the queue's exact progress figures.
  public init(
    progress: BatchProgress, recentPerMinute: [Double], errors: [(message: String, count: Int64)]
  ) {
    let counts = JobState.allCases.compactMap { state -> StateCount? in
      let count = progress.counts[state] ?? 0
      // Always show the main states; show the rare ones only when they hold jobs.
      guard count > 0 || [.available, .running, .succeeded, .dead].contains(state) else {
        return nil
      }
      return StateCount(state: state.rawValue, count: count)
    }
    let rate = progress.throughputPerSecond * 60
    self.init(
      id: String(progress.batch.id), name: progress.batch.name,
      createdAt: progress.batch.createdAt.timeIntervalSince1970, counts: counts,
      recentPerMinute: recentPerMinute, perMinute: rate,
      etaSeconds: progress.eta.map(\.seconds),
      topErrors: errors.map { ErrorCount(message: $0.message, count: $0.count) })
    // An empty or finished batch has nothing left to estimate (the queue's rate-based ETA
    // would still show the last minutes' throughput against zero remaining jobs).
    if total == 0 || finished >= total { etaSeconds = nil }
  }

  /// The summary as JSON for `--json`.
  public var json: JSONValue {
    .object([
      .init("id", .number(id)),
      .init("name", name.map(JSONValue.string) ?? .null),
      .init("created_at", createdAt.map { .string(Formatting.isoTimestamp($0)) } ?? .null),
      .init("counts", .object(counts.map { .init($0.state, .number(String($0.count))) })),
      .init("total", .number(String(total))),
      .init("finished", .number(String(finished))),
      .init("jobs_per_minute", perMinute.map { .number(Formatting.jsonNumber($0)) } ?? .null),
      .init(
        "recent_per_minute", .array(recentPerMinute.map { .number(Formatting.jsonNumber($0)) })),
      .init("eta_seconds", etaSeconds.map { .number(Formatting.jsonNumber($0)) } ?? .null),
      .init(
        "top_errors",
        .array(
          topErrors.map {
            .object([
              .init("message", .string($0.message)), .init("count", .number(String($0.count))),
            ])
          })),
    ])
  }
}
