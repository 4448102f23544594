import Foundation
import JobQueue
import Postgres
import PostgresTesting
import Testing
import TroL
import TroLSynthesis
import TrolleyBasics
import TrolleyCLIKit

#if canImport(Glibc)
  import Glibc
#endif

/// Curation through the real binary and real worker processes, on the dedupe acceptance set
/// (`DuplicateSet`: originals with a byte copy, a resize, a JPEG re-encode and a brightness
/// shift): ingest with a worker SIGKILLed mid-run, then the dedupe chain with a worker SIGKILLed
/// while one of its jobs runs. Every item must end in exactly one final status, and the groups
/// must equal an uninterrupted run's and score precision and recall >= 0.99 against the truth.
@Suite(.serialized) struct CurationProcessTests {
  /// Originals in the set (`DuplicateSet`: five files each); `TROLLEY_DEDUPE_ORIGINALS` scales
  /// it as in `CurationPipelineTests` (the 5,000-original run is this test with it set).
  static var originals: Int {
    Int(ProcessInfo.processInfo.environment["TROLLEY_DEDUPE_ORIGINALS"] ?? "") ?? 120
  }

  /// Source path → group id (nil: in no group).
  static func groups(_ client: PostgresClient) async throws -> [String: Int64] {
    var result: [String: Int64] = [:]
    for row in try await client.query(
      "SELECT source, group_id FROM dataset_item WHERE group_id IS NOT NULL")
    {
      let (source, group) = try row.decode((String, Int64).self)
      result[source] = group
    }
    return result
  }

  /// True while some job of the dedupe chain holds a lease.
  static func dedupeRunning(_ client: PostgresClient) async throws -> Bool {
    try await !client.query(
      "SELECT 1 FROM jobs WHERE kind = 'curate.dedupe' AND state = 'running' LIMIT 1"
    ).isEmpty
  }

  /// The state of the newest dedupe chain's last (groups) job.
  static func dedupeJobState(_ client: PostgresClient) async throws -> String? {
    try await client.query(
      "SELECT state::text FROM jobs WHERE kind = 'curate.dedupe' ORDER BY id DESC LIMIT 1"
    ).first.map { try $0.decode(0, as: String.self) }
  }

  @Test func killedWorkersLeaveEveryItemFinalAndTheSameGroups() async throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "curation-e2e-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    var truth: [String: Int] = [:]
    for member in try DuplicateSet.write(originals: Self.originals, into: folder) {
      truth[member.path] = member.group
    }
    let items = truth.count
    let ingestJobs = (items + 19) / 20

    try await withTestDatabase { database in
      let url = try database.configuration.resolvedConnectionString()
      let env = ["TROLLEY_DATABASE_URL": url, "NO_COLOR": "1"]
      let client = database.client
      #expect(try TrolleyBinary.run(["dataset", "create", "e2e"], environment: env).status == 0)
      // The resized copies go down to 160x120: no size filter for this set.
      let filter = try TrolleyBinary.run(
        ["dataset", "filter", "e2e", "--min-side", "0"], environment: env)
      #expect(filter.status == 0, "\(filter.stderr)")
      let ingest = try TrolleyBinary.run(
        ["dataset", "ingest", "e2e", "--images", folder.path, "--chunk", "20", "--json"],
        environment: env)
      #expect(ingest.status == 0, "\(ingest.stderr)")
      #expect(ingest.stdout.contains("\"added\":\(items)"), "\(ingest.stdout)")

      let kinds = [
        "--kinds", "curate.ingest,curate.dedupe", "--lease", "2", "--poll-interval", "0.2",
        "--image-root", folder.path,
      ]
      // The kill is made certain, as for dedupe below: this connection holds a SHARE lock on the
      // item table, so an ingest job, claimed and running, waits to write its items until the
      // victim is gone (polling for a running job alone can miss a whole ingest that finishes
      // while the test's tasks wait for a busy thread pool).
      let holder = try PostgresConnection(configuration: database.configuration)
      defer { holder.close() }
      try holder.execute("BEGIN")
      try holder.execute("LOCK TABLE dataset_item IN SHARE MODE")
      let doomed = try WorkerProcess(databaseURL: url, arguments: kinds + ["--no-maintenance"])
      try await eventually("an ingest job runs") {
        try await client.query("SELECT 1 FROM jobs WHERE state = 'running'").count > 0
      }
      doomed.kill(SIGKILL)
      doomed.process.waitUntilExit()
      try holder.execute("COMMIT")
      let heir = try WorkerProcess(databaseURL: url, arguments: kinds)
      defer { heir.stop() }
      // Every ingest job finished, not only every item: the killed worker may have written its
      // items and died before acknowledging its job, which stays `running` until a rescuer (a
      // maintenance service) returns it, and the dedupe chain below depends on it; the victim
      // runs without maintenance, so that job must be done before the heir stops.
      try await eventually("every item leaves pending and every ingest job succeeds") {
        let pending = try await client.query(
          "SELECT 1 FROM dataset_item WHERE status = 'pending' LIMIT 1")
        let unfinished = try await client.query(
          "SELECT 1 FROM jobs WHERE kind = 'curate.ingest' AND state <> 'succeeded' LIMIT 1")
        return pending.isEmpty && unfinished.isEmpty
      }
      heir.stop()

      // Dedupe with a worker killed while a job of the chain runs. A small chain can finish
      // between two polls, so the kill is made certain: this connection holds a SHARE lock on the
      // edge table, and the chain's first job (reset, which empties the dataset's edges) waits
      // for it inside its transaction, claimed and running, until the victim is gone.
      let chains = 1
      let plan = try TrolleyBinary.run(["dataset", "dedupe", "e2e", "--json"], environment: env)
      #expect(plan.status == 0)
      // 1 reset + 4 exact + 5 bands x 4 pairs + 1 groups at the default distance 4.
      #expect(plan.stdout.contains("\"jobs\":26"), "\(plan.stdout)")
      try holder.execute("BEGIN")
      try holder.execute("LOCK TABLE dataset_edge IN SHARE MODE")
      let victim = try WorkerProcess(databaseURL: url, arguments: kinds + ["--no-maintenance"])
      try await eventually("a dedupe job is claimed") { try await Self.dedupeRunning(client) }
      victim.kill(SIGKILL)
      victim.process.waitUntilExit()
      try holder.execute("COMMIT")
      let midway = try TrolleyBinary.run(["dataset", "show", "e2e", "--json"], environment: env)
      #expect(midway.status == 0)
      #expect(
        midway.stdout.contains("\"stage\":\"dedupe\",\"total\":\(26 * chains)"), "\(midway.stdout)")
      let finisher = try WorkerProcess(databaseURL: url, arguments: kinds)
      try await eventually("the dedupe job succeeds after the kill") {
        try await Self.dedupeJobState(client) == "succeeded"
      }
      let afterKill = try await Self.groups(client)

      // An uninterrupted run gives the same groups.
      #expect(try TrolleyBinary.run(["dataset", "dedupe", "e2e"], environment: env).status == 0)
      try await eventually("the second dedupe succeeds") {
        try await Self.dedupeJobState(client) == "succeeded"
      }
      finisher.stop()
      let clean = try await Self.groups(client)
      #expect(afterKill == clean)

      // Ground truth: each original and its four variants form one group.
      let (precision, recall) = DuplicateSet.pairScores(truth: truth, predicted: clean)
      print("dedupe after a kill: \(items) items, precision \(precision), recall \(recall)")
      #expect(precision >= 0.99)
      #expect(recall >= 0.99)
      #expect(Set(clean.keys).isSubset(of: Set(truth.keys)))

      let statuses = try await client.query(
        "SELECT status::text, count(*)::bigint FROM dataset_item GROUP BY 1 ORDER BY 1"
      ).map { try $0.decode((String, Int64).self) }
      #expect(statuses.map(\.0) == ["duplicate", "ok"])
      #expect(statuses.reduce(0) { $0 + $1.1 } == Int64(truth.count))

      // Progress by stage: every dedupe chain and every ingest job done, items by status.
      let dedupeJobs = 26 * (chains + 1)
      let show = try TrolleyBinary.run(["dataset", "show", "e2e", "--json"], environment: env)
      #expect(show.status == 0)
      #expect(
        show.stdout.contains(
          "{\"done\":\(ingestJobs),\"failed\":0,\"running\":0,\"stage\":\"ingest\",\"total\":\(ingestJobs),\"waiting\":0}"
        ),
        "\(show.stdout)")
      #expect(
        show.stdout.contains(
          "{\"done\":\(dedupeJobs),\"failed\":0,\"running\":0,\"stage\":\"dedupe\",\"total\":\(dedupeJobs),\"waiting\":0}"
        ),
        "\(show.stdout)")
      let text = try TrolleyBinary.run(["dataset", "show", "e2e"], environment: env)
      #expect(
        text.stdout.contains("ingest   \(ingestJobs)/\(ingestJobs) (done)"), "\(text.stdout)")
      #expect(text.stdout.contains("caption  not planned"))
      let top = try TrolleyBinary.run(["top", "--json"], environment: env)
      #expect(top.status == 0, "\(top.stderr)")
      #expect(top.stdout.contains("\"name\":\"e2e\""), "\(top.stdout)")
      #expect(top.stdout.contains("\"name\":\"dedupe\",\"total\":\(dedupeJobs)"), "\(top.stdout)")
      let screen = try TrolleyBinary.run(["top", "--once"], environment: env)
      #expect(
        screen.stdout.contains(
          "e2e  \(Formatting.count(Int64(items))) items  ingest \(ingestJobs)/\(ingestJobs)  dedupe \(dedupeJobs)/\(dedupeJobs)  caption -"
        ))
    }
  }
}
