public import JobQueue
import Postgres
import TrolleyBasics
public import TrolleyJobContracts

/// Listing, pausing and resuming queues.
public enum QueueOperations {
  /// Queues with unfinished jobs or a pause record, by name.
  public static func list(store: JobStore) async throws -> [QueueOverview] {
    try await store.client.withConnection { try store.queueOverview(on: $0) }
  }

  /// Pauses `name` (a queue need not have jobs yet to be paused).
  /// - Throws: `CLIError.invalidArgument` for an empty or over-long name.
  public static func pause(_ name: String, store: JobStore) async throws {
    try check(name)
    try await store.queuePause(QueuePauseParams(name: name))
  }

  /// Resumes `name`; returns whether it was paused.
  public static func resume(_ name: String, store: JobStore) async throws -> Bool {
    try check(name)
    return try await store.queueResume(QueuePauseParams(name: name))
  }

  static func check(_ name: String) throws(CLIError) {
    guard !name.isEmpty, name.count <= 100 else {
      throw CLIError(
        .invalidArgument, "a queue name has 1 to 100 characters; \"\(name)\" does not.")
    }
  }

  static let states: [JobState] = [.available, .running, .scheduled, .retrying, .waiting]

  /// A table of queues.
  public static func table(_ queues: [QueueOverview]) -> String {
    guard !queues.isEmpty else { return "No queues have unfinished jobs, and none is paused.\n" }
    var table = Table(
      columns: [Table.Column("QUEUE"), Table.Column("STATE")]
        + states.map { Table.Column($0.rawValue.uppercased(), alignRight: true) })
    for queue in queues {
      table.append(
        [queue.name, queue.paused ? "paused" : "active"]
          + states.map { Formatting.count(queue.counts[$0] ?? 0) })
    }
    return table.render().joined(separator: "\n") + "\n"
  }

  /// One queue as JSON.
  public static func json(_ queue: QueueOverview) -> JSONValue {
    .object([
      .init("name", .string(queue.name)), .init("paused", .bool(queue.paused)),
      .init(
        "counts", .object(states.map { .init($0.rawValue, .number(String(queue.counts[$0] ?? 0))) })
      ),
    ])
  }
}
