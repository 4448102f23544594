public import ArgumentParser
import Foundation
import JobQueue
import Postgres
import TrolleyBasics
import TrolleyCLIKit
import TrolleyJobContracts

/// `trolley enqueue test`: jobs of the queue's test kinds, to exercise workers without a model.
struct EnqueueTest: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "test",
    abstract: "Enqueue test jobs (noop, sleep, fail, crash) in one streamed COPY.",
    discussion: """
      With --batch, each job gets a unique key (batch, kind, number), so running the same command \
      again adds nothing and reports the jobs as skipped.

      Examples:
        trolley enqueue test --kind noop --count 100000 --batch smoke
        trolley enqueue test --kind sleep --ms 250 --count 20 --json
        trolley enqueue test --kind fail --permanent --count 3
      """)

  @Option(
    help: ArgumentHelp(
      "The test kind: \(JobKindName.allCases.filter(\.isTestKind).map(\.rawValue).joined(separator: ", ")).",
      valueName: "kind"))
  var kind: JobKindName

  @Option(help: "How many jobs to enqueue.")
  var count: Int = 1

  @Option(help: "Milliseconds: how long sleep jobs sleep, or crash jobs run before crashing.")
  var ms: Int = 0

  @Option(help: "The batch to add the jobs to (created if needed). Default: a new batch.")
  var batch: String?

  @Option(help: "The queue.")
  var queue: String = "default"

  @Option(help: "Lower runs first.")
  var priority: Int16 = 0

  @Option(help: "The error budget: errors before a job is dead.")
  var maxAttempts: Int32 = 5

  @Flag(help: "fail jobs fail with a permanent error (dead at once) instead of a retryable one.")
  var permanent = false

  @Flag(help: "Print JSON: {\"batch_id\", \"batch\", \"added\", \"skipped\"}.")
  var json = false

  @OptionGroup var database: DatabaseOptions

  func validate() throws {
    guard kind.isTestKind else {
      throw ValidationError(
        "--kind must be a test kind (\(JobKindName.allCases.filter(\.isTestKind).map(\.rawValue).joined(separator: ", "))); enqueue \(kind.rawValue) with `trolley enqueue answer` or `caption`"
      )
    }
    guard count >= 1 else { throw ValidationError("--count must be at least 1") }
    guard ms >= 0 && ms <= 86_400_000 else {
      throw ValidationError("--ms must be within 0...86400000")
    }
    guard maxAttempts >= 1 else { throw ValidationError("--max-attempts must be at least 1") }
    if permanent && kind != .fail {
      throw ValidationError("--permanent applies to --kind fail only")
    }
  }

  func run() async throws {
    let client = PostgresClient(
      configuration: try database.resolve(), maximumConnections: 1)
    defer { client.shutdown() }
    let store = JobStore(client: client)
    let name = batch ?? "test \(kind.rawValue) \(ISO8601DateFormatter().string(from: Date()))"
    let record = try await store.batchCreate(.init(name: name))
    let payload = PostgresJSONB(text: try testPayload())
    let keyPrefix = batch.map { "test:\($0):\(kind.rawValue):" }
    let rows = (0..<count).lazy.map { [queue, kind, priority, maxAttempts] index in
      JobInsertRow(
        queue: queue, kind: kind.rawValue, payload: payload, priority: priority,
        maxAttempts: maxAttempts, uniqueKey: keyPrefix.map { "\($0)\(index)" })
    }
    let result = try await store.jobInsertMany(.init(batchID: record.id), rows: rows)
    if json {
      let escaped = JSONString.quoted(record.name)
      print(
        #"{"batch_id": \#(record.id), "batch": \#(escaped), "added": \#(result.added), "skipped": \#(result.skipped)}"#
      )
    } else {
      print(
        "batch \(record.id) (\(record.name)): added \(result.added) \(kind.rawValue) jobs"
          + (result.skipped > 0 ? ", skipped \(result.skipped) already enqueued" : ""))
    }
  }

  /// The payload, written by the kind's contract (what the worker decodes).
  private func testPayload() throws -> String {
    switch kind {
    case .noop: try NoopContract.encode(.init())
    case .sleep: try SleepContract.encode(.init(ms: ms))
    case .fail: try FailContract.encode(.init(permanent: permanent))
    case .crash: try CrashContract.encode(.init(ms: ms))
    case .trolAnswer, .trolCaption, .curateIngest, .curateDedupe, .curateShard, .trainShard,
      .trainMerge, .trainEval:
      throw ValidationError("--kind must be a test kind")
    }
  }
}

extension JobKindName: ExpressibleByArgument {}
