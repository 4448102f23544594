import Foundation
public import JobQueue
import Postgres
public import TrolleyBasics
public import TrolleyJobContracts

/// What `trolley prune` deleted.
public struct PruneReport: Sendable, Equatable {
  /// Jobs deleted, by state, in `JobState.allCases` order.
  public var deleted: [(state: JobState, count: Int)]
  public var workers: Int

  public static func == (lhs: PruneReport, rhs: PruneReport) -> Bool {
    lhs.workers == rhs.workers && lhs.deleted.map(\.state) == rhs.deleted.map(\.state)
      && lhs.deleted.map(\.count) == rhs.deleted.map(\.count)
  }
}

/// Deletes finished jobs older than an age, a thousand at a time.
public enum PruneOperation {
  static let finished: [JobState] = [.succeeded, .dead, .cancelled]

  /// What `--state all` prunes: results (succeeded jobs) are deleted only when named.
  static let finishedWithoutResults: [JobState] = [.dead, .cancelled]

  /// Parses `--state`: finished states only; `all` means dead and cancelled (succeeded jobs hold
  /// results, so deleting them must be asked for by name: `--state succeeded`).
  /// - Throws: `CLIError.invalidArgument` for unknown or unfinished states.
  public static func states(_ text: String) throws(CLIError) -> [JobState] {
    guard let states = try JobFilter.states(text) else { return finishedWithoutResults }
    for state in states where !finished.contains(state) {
      throw CLIError(
        .invalidArgument,
        "--state \(state.rawValue): only finished jobs are pruned. Use succeeded, dead, cancelled or all (dead and cancelled)."
      )
    }
    return states
  }

  /// Deletes, state by state, until nothing older is left.
  public static func run(olderThan seconds: Double, states: [JobState], store: JobStore)
    async throws
    -> PruneReport
  {
    let age = Duration.milliseconds(Int64((seconds * 1000).rounded()))
    var report = PruneReport(deleted: [], workers: 0)
    for state in states {
      var total = 0
      while true {
        let deleted = try await store.jobDeleteFinished(
          JobDeleteFinishedParams(state: state, olderThan: age, limit: 1000))
        total += deleted
        if deleted < 1000 { break }
      }
      report.deleted.append((state, total))
    }
    report.workers = try await store.client.withConnection { connection in
      try store.workerDeleteStopped(olderThan: age, on: connection)
    }
    return report
  }

  /// What `run` would delete, counted without deleting anything (`trolley prune --dry-run`).
  public static func preview(olderThan seconds: Double, states: [JobState], store: JobStore)
    async throws -> (report: PruneReport, sample: [Int64])
  {
    let age = Duration.milliseconds(Int64((seconds * 1000).rounded()))
    return try await store.client.withConnection { connection in
      var report = PruneReport(deleted: [], workers: 0)
      var sample: [Int64] = []
      for state in states {
        let found = try store.jobPrunePreview(
          JobDeleteFinishedParams(state: state, olderThan: age, limit: 1),
          sample: DryRunPreview.sampleSize, on: connection)
        report.deleted.append((state, found.count))
        sample += found.sample.prefix(DryRunPreview.sampleSize - sample.count)
      }
      report.workers = try store.workerCountStopped(olderThan: age, on: connection)
      return (report, sample)
    }
  }

  /// "Dry run: would delete 1,200 finished jobs older than 7d: ... Nothing was changed."
  public static func previewText(_ report: PruneReport, sample: [Int64], olderThan: String)
    -> String
  {
    var text = self.text(report, olderThan: olderThan)
    text =
      "Dry run: would "
      + text.replacingOccurrences(of: "Deleted", with: "delete")
      .replacingOccurrences(of: " Removed ", with: " Would remove ")
    text = String(text.dropLast()) + " Nothing was changed.\n"
    if !sample.isEmpty {
      text +=
        "Oldest: " + sample.map(String.init).joined(separator: ", ")
        + " (see them with `trolley jobs show ID`)\n"
    }
    return text
  }

  /// "Deleted 1,200 finished jobs older than 7d: succeeded 1,100, dead 100."
  public static func text(_ report: PruneReport, olderThan: String) -> String {
    let total = report.deleted.reduce(0) { $0 + $1.count }
    let parts = report.deleted.map { "\($0.state.rawValue) \(Formatting.count(Int64($0.count)))" }
    var line =
      "Deleted \(Formatting.count(Int64(total))) finished job\(total == 1 ? "" : "s") older than \(olderThan)"
    line += parts.isEmpty ? "." : ": " + parts.joined(separator: ", ") + "."
    if report.workers > 0 {
      line += " Removed \(report.workers) stopped worker record\(report.workers == 1 ? "" : "s")."
    }
    return line + "\n"
  }

  /// The report as JSON.
  public static func json(_ report: PruneReport) -> JSONValue {
    .object([
      .init(
        "deleted",
        .object(report.deleted.map { .init($0.state.rawValue, .number(String($0.count))) })),
      .init("total", .number(String(report.deleted.reduce(0) { $0 + $1.count }))),
      .init("workers", .number(String(report.workers))),
    ])
  }
}
