import Foundation
import JobQueue
import Testing

struct JobTransitionTests {
  /// The state table of docs/queue.md, row for row.
  static let documentedEdges: Set<String> = [
    "new enqueueReady available", "new enqueueScheduled scheduled", "new enqueueWaiting waiting",
    "new enqueueDependencyFailed cancelled", "scheduled promote available",
    "retrying promote available", "available claim running", "running complete succeeded",
    "running failRetryable retrying", "running failFinal dead",
    "running acknowledgeCancel cancelled", "running handBack available",
    "running rescue available", "running rescueQuarantine dead",
    "running rescueCancelled cancelled", "waiting cancel cancelled", "scheduled cancel cancelled",
    "available cancel cancelled", "retrying cancel cancelled",
    "waiting dependenciesSucceeded available", "waiting dependencyFailed cancelled",
    "dead retry available", "waiting dependenciesSucceededEarly scheduled",
    "cancelled dependencyRetried waiting",
  ]

  @Test func edgesAreExactlyTheDocumentedTable() {
    let edges = Set(
      JobTransition.edges.map { "\($0.from?.rawValue ?? "new") \($0.event) \($0.to.rawValue)" })
    #expect(edges == Self.documentedEdges)
  }

  @Test func docsListEveryEdge() throws {
    let docs = try String(
      contentsOf: repositoryRoot().appendingPathComponent("docs/queue.md"), encoding: .utf8)
    for edge in JobTransition.edges {
      let from = edge.from.map { "`\($0.rawValue)`" } ?? "(new)"
      let row = "| \(from) | `\(edge.event)` | `\(edge.to.rawValue)` |"
      #expect(docs.contains(row), "docs/queue.md lacks the row \(row)")
    }
  }

  @Test func succeededAndCancelledAreFinal() {
    for event in JobTransition.allCases {
      #expect(event.target(from: .succeeded) == nil)
    }
    // A cancelled job leaves only when the dependency whose end cancelled it is retried.
    #expect(
      JobTransition.allCases.filter { $0.target(from: .cancelled) != nil } == [.dependencyRetried])
    // A dead job leaves only by an operator's retry.
    #expect(JobTransition.allCases.filter { $0.target(from: .dead) != nil } == [.retry])
  }

  @Test func everyStateIsReachableAndEveryEventUsed() {
    let reached = Set(JobTransition.edges.map(\.to))
    #expect(reached == Set(JobState.allCases))
    let used = Set(JobTransition.edges.map(\.event))
    #expect(used == Set(JobTransition.allCases))
  }

  @Test func swiftStatesMatchTheMigrationEnum() throws {
    let sql = try String(
      contentsOf: repositoryRoot().appendingPathComponent("Migrations/SQL/0001_queue.sql"),
      encoding: .utf8)
    let start = try #require(sql.range(of: "CREATE TYPE job_state AS ENUM ("))
    let end = try #require(sql.range(of: ");", range: start.upperBound..<sql.endIndex))
    let labels = sql[start.upperBound..<end.lowerBound].split(separator: "\n").compactMap {
      line -> String? in
      guard let open = line.firstIndex(of: "'") else { return nil }
      let rest = line[line.index(after: open)...]
      return rest.firstIndex(of: "'").map { String(rest[..<$0]) }
    }
    #expect(labels == JobState.allCases.map(\.rawValue))
  }

  @Test func terminalStates() {
    #expect(JobState.allCases.filter(\.isTerminal) == [.succeeded, .dead, .cancelled])
  }
}

/// The repository root, from this file's path.
func repositoryRoot(file: String = #filePath) -> URL {
  URL(fileURLWithPath: file).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
}
