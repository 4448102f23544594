public import Foundation
public import JobQueue
import Postgres
public import TrolleyBasics

/// The job filters operators give to `trolley jobs list|retry|cancel`.
public struct JobFilter: Sendable {
  /// A batch id or name.
  public var batch: String?
  public var states: [JobState]?
  public var kind: String?
  public var queue: String?
  public var since: Date?
  public var errorContains: String?

  public init(
    batch: String? = nil, states: [JobState]? = nil, kind: String? = nil, queue: String? = nil,
    since: Date? = nil, errorContains: String? = nil
  ) {
    self.batch = batch
    self.states = states
    self.kind = kind
    self.queue = queue
    self.since = since
    self.errorContains = errorContains
  }

  /// True when no filter is set (retry and cancel then refuse to touch every job).
  public var isEmpty: Bool {
    batch == nil && states == nil && kind == nil && queue == nil && since == nil
      && errorContains == nil
  }

  /// Parses "dead" or "dead,retrying" (also "all").
  /// - Throws: `CLIError.invalidArgument` listing the states.
  public static func states(_ text: String, option: String = "--state") throws(CLIError)
    -> [JobState]?
  {
    if text == "all" { return nil }
    var result: [JobState] = []
    for part in text.split(separator: ",") {
      let name = String(part).trimmingSpaces().lowercased()
      let aliases = [
        "failed": JobState.dead, "canceled": .cancelled, "queued": .available, "done": .succeeded,
      ]
      guard let state = JobState(rawValue: name) ?? aliases[name] else {
        throw CLIError(
          .invalidArgument,
          "\(option) \"\(name)\" is not a job state. Use one or more of "
            + JobState.allCases.map(\.rawValue).joined(separator: ", ")
            + " (comma-separated), or all.")
      }
      result.append(state)
    }
    guard !result.isEmpty else {
      throw CLIError(.invalidArgument, "\(option) is empty. Give a state such as dead.")
    }
    return result
  }
}

/// What `jobs retry` or `jobs cancel` did.
public struct JobActionReport: Sendable, Equatable {
  /// Jobs that matched the filter (and were in a state the action applies to).
  public var matched: Int
  /// Jobs moved (retried, or cancelled at once).
  public var changed: Int
  /// Running jobs asked to stop; their workers cancel them at the next heartbeat.
  public var requested: Int
}

/// Listing, retrying and cancelling jobs by filter.
public enum JobOperations {
  /// Jobs per statement when acting on many jobs: short transactions, no long locks.
  static let chunk = 1000

  static func params(_ filter: JobFilter, store: JobStore) async throws -> JobListParams {
    var batchID: Int64?
    if let batch = filter.batch {
      batchID = try await BatchOverview.resolve(batch, store: store).id
    }
    return JobListParams(
      batchID: batchID, states: filter.states, kind: filter.kind, queue: filter.queue,
      createdSince: filter.since, errorContains: filter.errorContains)
  }

  /// Jobs matching `filter`, oldest first, after `afterID`, at most `limit`.
  public static func list(_ filter: JobFilter, afterID: Int64?, limit: Int, store: JobStore)
    async throws -> [JobSummary]
  {
    var params = try await params(filter, store: store)
    params.afterID = afterID
    params.limit = limit
    return try await store.jobList(params)
  }

  /// Retries the dead jobs among `ids`, or else every dead job matching `filter`, in chunks.
  public static func retry(_ filter: JobFilter, ids: [Int64] = [], store: JobStore) async throws
    -> JobActionReport
  {
    if !ids.isEmpty {
      var changed = 0
      for start in stride(from: 0, to: ids.count, by: chunk) {
        changed += try await store.jobRetry(
          JobRetryParams(ids: Array(ids[start..<min(ids.count, start + chunk)])))
      }
      return JobActionReport(matched: ids.count, changed: changed, requested: 0)
    }
    var params = try await params(filter, store: store)
    params.states = [.dead]
    if let states = filter.states, !states.contains(.dead) {
      return JobActionReport(matched: 0, changed: 0, requested: 0)
    }
    params.limit = chunk
    var report = JobActionReport(matched: 0, changed: 0, requested: 0)
    while true {
      let jobs = try await store.jobList(params)
      guard let last = jobs.last else { break }
      report.matched += jobs.count
      report.changed += try await store.jobRetry(JobRetryParams(ids: jobs.map(\.id)))
      params.afterID = last.id
    }
    return report
  }

  /// States a job can be cancelled from.
  static let cancellable: [JobState] = [.waiting, .scheduled, .available, .running, .retrying]
  /// The same, for `--dry-run` previews.
  public static var cancellableStates: [JobState] { cancellable }

  /// Cancels the jobs among `ids`, or else every unfinished job matching `filter`, in chunks.
  public static func cancel(
    _ filter: JobFilter, ids: [Int64] = [], reason: String?, store: JobStore
  )
    async throws -> JobActionReport
  {
    if !ids.isEmpty {
      var report = JobActionReport(matched: ids.count, changed: 0, requested: 0)
      for start in stride(from: 0, to: ids.count, by: chunk) {
        let result = try await store.jobCancel(
          JobCancelParams(ids: Array(ids[start..<min(ids.count, start + chunk)]), reason: reason))
        report.changed += result.cancelled
        report.requested += result.requested
      }
      return report
    }
    var params = try await params(filter, store: store)
    params.states = (filter.states ?? cancellable).filter(cancellable.contains)
    var report = JobActionReport(matched: 0, changed: 0, requested: 0)
    guard params.states?.isEmpty == false else { return report }
    params.limit = chunk
    while true {
      let jobs = try await store.jobList(params)
      guard let last = jobs.last else { break }
      report.matched += jobs.count
      let result = try await store.jobCancel(JobCancelParams(ids: jobs.map(\.id), reason: reason))
      report.changed += result.cancelled
      report.requested += result.requested
      params.afterID = last.id
    }
    return report
  }
}
