import Digest
public import JobQueue
import Postgres

/// What `trolley enqueue answer|caption` was asked to do.
public struct EnqueueRequest: Sendable {
  public var source: ManifestSource
  public var kind: ImageJobKind
  /// The question (answer) or prompt (caption) for rows without their own.
  public var defaultText: String?
  /// The batch to add to (created if new); nil: a name derived from the kind and the source.
  public var batchName: String?
  public var queue: String
  public var priority: Int16
  public var maxAttempts: Int32
  /// Reject the whole manifest if any row is bad.
  public var strict: Bool
  /// Report rows whose local image file is missing or unreadable.
  public var checksFiles: Bool
  /// Do everything in a transaction that is rolled back: exact counts, nothing changed.
  public var dryRun = false
  /// Column names from `--image-column`/`--question-column`.
  public var columns = ManifestColumnChoice.standard

  public init(
    source: ManifestSource, kind: ImageJobKind, defaultText: String?, batchName: String?,
    queue: String, priority: Int16, maxAttempts: Int32, strict: Bool, checksFiles: Bool
  ) {
    self.source = source
    self.kind = kind
    self.defaultText = defaultText
    self.batchName = batchName
    self.queue = queue
    self.priority = priority
    self.maxAttempts = maxAttempts
    self.strict = strict
    self.checksFiles = checksFiles
  }

  /// The batch name used when none is given: stable for the same kind and source, so a re-run
  /// lands in the same batch.
  public var effectiveBatchName: String {
    if let batchName { return batchName }
    let absolute = ImagePath.resolve(source.path, relativeTo: ImagePath.currentDirectory())
    let name = "\(kind.shortName) \(absolute)"
    return name.count <= 200
      ? name : String(name.prefix(150)) + " " + String(SHA256.hex(name).prefix(16))
  }
}

/// What an enqueue did.
public struct EnqueueReport: Sendable, Equatable {
  /// How many bad rows are listed in `issues`; the rest are only counted.
  public static let listedIssues = 20

  /// The batch, or nil when none exists: a dry run for a new batch, or an enqueue that added
  /// nothing to a new batch (which is then not created, so no empty batch is left behind).
  public var batchID: Int64?
  public var batchName: String
  /// True when nothing was changed (`--dry-run`): `added` is what would have been added.
  public var dryRun = false
  /// The first rows that would be added, as their JSON payloads (dry runs only).
  public var sample: [String] = []
  /// Files a folder walk passed over, and why.
  public var skippedFiles = SkippedFiles()
  public var added: Int
  public var skipped: Int
  public var badRows: Int
  /// The first `listedIssues` bad rows.
  public var issues: [ManifestIssue]
}

/// Collects bad rows: all are counted, the first few are kept for the report.
final class IssueLog {
  private(set) var count = 0
  private(set) var first: [ManifestIssue] = []

  func record(_ issue: ManifestIssue) {
    count += 1
    if first.count < EnqueueReport.listedIssues { first.append(issue) }
  }
}

/// The rows of a manifest as queue rows, read lazily: bad rows are logged and skipped, and a read
/// error ends the sequence and is kept for the caller to throw (a Sequence cannot throw).
struct PlannedRows: Sequence, IteratorProtocol {
  let reader: any ManifestReader
  let planner: JobPlanner
  let request: EnqueueRequest
  let issues: IssueLog
  let failure: FailureBox
  let progress: (@Sendable (EnqueueProgress) -> Void)?

  final class FailureBox {
    var error: CLIError?
    var rows = 0
    /// The first planned payloads, for a dry run's sample.
    var sample: [String] = []
  }

  /// Rows between progress reports (the reporter decides what to show, by time).
  static let progressInterval = 5_000

  mutating func next() -> JobInsertRow? {
    guard failure.error == nil else { return nil }
    failure.rows += 1
    if let progress, failure.rows % Self.progressInterval == 0 {
      progress(.reading(rows: failure.rows, badRows: issues.count))
    }
    do {
      while let entry = try reader.next() {
        switch entry {
        case .issue(let issue):
          issues.record(issue)
        case .row(let row):
          switch planner.plan(row) {
          case .failure(let issue):
            issues.record(issue)
          case .success(let job):
            if request.dryRun, failure.sample.count < 5 { failure.sample.append(job.payload) }
            return JobInsertRow(
              queue: request.queue, kind: request.kind.rawValue,
              payload: PostgresJSONB(text: job.payload), priority: request.priority,
              maxAttempts: request.maxAttempts, uniqueKey: job.uniqueKey)
          }
        }
      }
    } catch {
      failure.error = error
    }
    return nil
  }
}

/// Streams a folder or manifest into the queue through one COPY, in constant memory.
public enum EnqueueOperation {
  /// Reads the whole source without touching the database and returns its bad rows (for
  /// `--strict`, which must refuse a manifest before enqueueing any of it).
  /// - Throws: `CLIError` if the source cannot be read.
  public static func validate(_ request: EnqueueRequest) throws(CLIError) -> (
    rows: Int, issues: IssueList
  ) {
    let reader = try request.source.open(columns: request.columns)
    let planner = JobPlanner(
      kind: request.kind, defaultText: request.defaultText, checksFiles: request.checksFiles)
    let log = IssueLog()
    var rows = 0
    while let entry = try reader.next() {
      switch entry {
      case .issue(let issue): log.record(issue)
      case .row(let row):
        switch planner.plan(row) {
        case .failure(let issue): log.record(issue)
        case .success: rows += 1
        }
      }
    }
    return (rows, IssueList(count: log.count, first: log.first))
  }

  /// Enqueues every good row of the source into its batch, in one transaction: a read error
  /// part-way adds nothing.
  /// - Throws: `CLIError` (unreadable source), `JobQueueError`, `PostgresError`.
  /// - Parameter progress: called every 50,000 rows while reading, and once when the rows are
  ///   all sent and the database is adding them (for a status line on a terminal).
  public static func run(
    _ request: EnqueueRequest, store: JobStore,
    progress: (@Sendable (EnqueueProgress) -> Void)? = nil
  ) async throws -> EnqueueReport {
    try await store.client.withConnection { connection in
      let reader = try request.source.open(columns: request.columns)
      let planner = JobPlanner(
        kind: request.kind, defaultText: request.defaultText, checksFiles: request.checksFiles)
      let issues = IssueLog()
      let failure = PlannedRows.FailureBox()
      let rows = PlannedRows(
        reader: reader, planner: planner, request: request, issues: issues, failure: failure,
        progress: progress)
      // Rolling back is how a dry run changes nothing, and how an enqueue that adds nothing to a
      // new batch leaves no empty batch behind.
      struct RolledBack: Error {
        var existing: BatchRecord?
        var name: String
        var result: JobInsertManyResult
      }
      var outcome: (batch: BatchRecord?, name: String, result: JobInsertManyResult)
      do {
        let (batch, result) = try connection.withTransaction { connection in
          let existing = try store.batchGet(name: request.effectiveBatchName, on: connection)
          let batch = try store.batchCreate(
            BatchCreateParams(name: request.effectiveBatchName), on: connection)
          let result = try store.jobInsertMany(
            JobInsertManyParams(batchID: batch.id), rows: rows, on: connection)
          if let error = failure.error { throw error }
          if request.dryRun || (result.added == 0 && existing == nil) {
            throw RolledBack(existing: existing, name: batch.name, result: result)
          }
          return (batch, result)
        }
        outcome = (batch, batch.name, result)
      } catch let rolledBack as RolledBack {
        outcome = (rolledBack.existing, rolledBack.name, rolledBack.result)
      }
      var report = EnqueueReport(
        batchID: outcome.batch?.id, batchName: outcome.name, added: outcome.result.added,
        skipped: outcome.result.skipped, badRows: issues.count, issues: issues.first)
      report.dryRun = request.dryRun
      report.sample = failure.sample
      report.skippedFiles = reader.skippedFiles
      return report
    }
  }
}

/// Where a long enqueue is, for a status line.
public enum EnqueueProgress: Sendable, Equatable {
  /// Rows read so far (good and bad), and how many of them were bad.
  case reading(rows: Int, badRows: Int)

  /// The status line ("read 250,000 rows (3 bad)").
  public var text: String {
    switch self {
    case .reading(let rows, let badRows):
      "read \(Formatting.count(Int64(rows))) rows"
        + (badRows > 0 ? " (\(Formatting.count(Int64(badRows))) bad)" : "")
        + "…"
    }
  }
}

/// Bad rows found by a validation pass: how many, and the first few.
public struct IssueList: Sendable, Equatable {
  public var count: Int
  public var first: [ManifestIssue]
}
