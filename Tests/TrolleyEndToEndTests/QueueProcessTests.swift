import Foundation
import JobQueue
import Migrations
import Postgres
import PostgresTesting
import Testing
import TrolleyBasics

#if canImport(Glibc)
  import Glibc
#endif

/// A `trolley worker` child process.
final class WorkerProcess {
  let process = Process()

  private let errorPipe = Pipe()

  init(databaseURL: String, arguments: [String], captureErrors: Bool = false) throws {
    process.executableURL = URL(fileURLWithPath: TrolleyBinary.path)
    process.arguments = ["worker", "--log-level", "warning"] + arguments
    var environment = ProcessInfo.processInfo.environment
    for name in ["PGHOST", "PGDATABASE", "DATABASE_URL", "TROLLEY_CONFIG"] {
      environment[name] = nil
    }
    environment["TROLLEY_DATABASE_URL"] = databaseURL
    environment["TROLLEY_HOME"] = NSTemporaryDirectory() + "trolley-e2e-home-none"
    process.environment = environment
    process.standardOutput = FileHandle.nullDevice
    process.standardError = captureErrors ? errorPipe : FileHandle.nullDevice
    process.standardInput = FileHandle.nullDevice
    try process.run()
  }

  var pid: Int32 { process.processIdentifier }

  /// What the worker wrote to standard error (with `captureErrors`), once it has exited.
  func errors() -> String {
    String(decoding: errorPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
  }

  func kill(_ signal: Int32) {
    _ = Glibc.kill(process.processIdentifier, signal)
  }

  /// SIGTERM, then waits for the graceful exit.
  func stop() {
    if process.isRunning { kill(SIGTERM) }
    process.waitUntilExit()
  }
}

/// Polls `condition` every 50 ms until it holds; fails (never asserting on timing) after `limit`.
func eventually(
  _ what: String, limit: Duration = .seconds(180), _ condition: () async throws -> Bool
) async throws {
  let deadline = ContinuousClock.now + limit
  while ContinuousClock.now < deadline {
    if try await condition() { return }
    try await Task.sleep(for: .milliseconds(50))
  }
  Issue.record("gave up waiting for: \(what)")
  throw CancellationError()
}

@Suite(.serialized) struct QueueProcessTests {
  @Test func aKilledWorkersJobRunsAgainAndSucceedsExactlyOnce() async throws {
    try await withTestDatabase { database in
      let store = JobStore(client: database.client)
      let url = try database.configuration.resolvedConnectionString()
      let batch = try await store.batchCreate(.init(name: "sigkill"))
      // The job runs long enough that the test sees it running even when busy test threads
      // delay this poll by seconds (with 2 s it could finish unseen in the full suite).
      let id = try #require(
        try await store.jobInsert(
          .init(kind: "sleep", payload: PostgresJSONB(text: #"{"ms": 15000}"#), batchID: batch.id)
        ).id)
      let doomed = try WorkerProcess(
        databaseURL: url, arguments: ["--kinds", "sleep", "--lease", "2", "--no-maintenance"])
      try await eventually("the first worker claims the job") {
        try await store.jobGet(id: id)?.state == .running
      }
      let zombieToken = try #require(try await store.jobGet(id: id)?.leaseToken)
      doomed.kill(SIGKILL)
      doomed.process.waitUntilExit()
      #expect(doomed.process.terminationReason == .uncaughtSignal)

      let heir = try WorkerProcess(
        databaseURL: url, arguments: ["--kinds", "sleep", "--lease", "2", "--poll-interval", "0.2"])
      defer { heir.stop() }
      try await eventually("the job finishes after its lease expires") {
        try await store.jobGet(id: id)?.state.isTerminal == true
      }
      let record = try #require(try await store.jobGet(id: id))
      #expect(record.state == .succeeded)
      #expect(record.attempt == 2)
      #expect(record.crashCount == 1 && record.errorCount == 0)
      let evidence = try await store.jobCrashes(jobID: id)
      #expect(evidence.map(\.pid) == [doomed.pid])
      // The killed worker's late report (what a zombie would send) is rejected.
      await #expect(throws: JobQueueError(.leaseLost, "")) {
        try await store.jobComplete(
          JobCompletion(
            id: id, leaseToken: zombieToken, outcome: .failedPermanently(error: "zombie")))
      }
      #expect(try await store.jobGet(id: id)?.state == .succeeded)
      let progress = try await store.batchProgress(.init(batchID: batch.id))
      #expect(progress.counts[.succeeded] == 1 && progress.total == 1)
    }
  }

  @Test func aJobThatKeepsKillingItsWorkerIsQuarantined() async throws {
    try await withTestDatabase { database in
      let store = JobStore(client: database.client)
      let url = try database.configuration.resolvedConnectionString()
      let id = try #require(try await store.jobInsert(.init(kind: "crash", maxCrashes: 2)).id)
      var pids: [Int32] = []
      // Each worker process dies by the job; the next one rescues and retries it, until the
      // crash budget is spent.
      while try await store.jobGet(id: id)?.state != .dead {
        let worker = try WorkerProcess(
          databaseURL: url,
          arguments: ["--kinds", "crash", "--lease", "1", "--poll-interval", "0.2"])
        pids.append(worker.pid)
        try await eventually("the worker crashes or the job is quarantined") {
          if !worker.process.isRunning { return true }
          return try await store.jobGet(id: id)?.state == .dead
        }
        worker.stop()
        try #require(pids.count <= 6, "the job was never quarantined")
      }
      let record = try #require(try await store.jobGet(id: id))
      #expect(record.crashCount == 2)
      #expect(record.lastError?.contains("quarantined") == true)
      let evidence = try await store.jobCrashes(jobID: id)
      #expect(evidence.count == 2)
      #expect(Set(evidence.compactMap(\.pid)).isSubset(of: Set(pids)))
    }
  }

  /// Issue 13, item 5: jobs running beside a job that kills the worker are charged a crash too;
  /// they must not be quarantined with it. A job with crashes runs alone, so the culprit's next
  /// crashes are its own.
  @Test func onlyTheJobThatKillsItsWorkerIsQuarantined() async throws {
    try await withTestDatabase { database in
      let store = JobStore(client: database.client)
      let url = try database.configuration.resolvedConnectionString()
      let culprit = try #require(
        try await store.jobInsert(
          .init(kind: "crash", payload: PostgresJSONB(text: #"{"ms": 300}"#), maxCrashes: 2)
        ).id)
      var bystanders: [Int64] = []
      for _ in 0..<3 {
        bystanders.append(
          try #require(
            try await store.jobInsert(
              .init(kind: "sleep", payload: PostgresJSONB(text: #"{"ms": 1500}"#), maxCrashes: 2)
            ).id))
      }
      func allFinished() async throws -> Bool {
        for id in [culprit] + bystanders
        where try await store.jobGet(id: id)?.state.isTerminal != true {
          return false
        }
        return true
      }
      var runs = 0
      while try await !allFinished() {
        runs += 1
        try #require(runs <= 8, "the jobs never all finished")
        let worker = try WorkerProcess(
          databaseURL: url,
          arguments: [
            "--kinds", "crash,sleep", "--concurrency", "4", "--lease", "1", "--poll-interval",
            "0.2",
          ])
        try await eventually("the worker crashes or every job finishes") {
          if !worker.process.isRunning { return true }
          return try await allFinished()
        }
        worker.stop()
      }
      let record = try #require(try await store.jobGet(id: culprit))
      #expect(record.state == .dead)
      #expect(record.lastError?.contains("quarantined") == true)
      for id in bystanders {
        let bystander = try #require(try await store.jobGet(id: id))
        #expect(bystander.state == .succeeded, "job \(id) was charged with the culprit's crashes")
        #expect(bystander.crashCount <= 1)
      }
    }
  }

  /// Issue 13, item 7: an unmigrated database is a permanent error (exit 1, saying to run
  /// `trolley migrate`), not a retry loop; a worker waiting for an unreachable database stops on
  /// SIGTERM.
  @Test func aWorkerStopsOnPermanentErrorsAndOnSignalsWhileWaiting() async throws {
    try await withTestDatabase(migrated: false) { database in
      let url = try database.configuration.resolvedConnectionString()
      let worker = try WorkerProcess(
        databaseURL: url, arguments: ["--kinds", "noop", "--once", "--poll-interval", "0.2"],
        captureErrors: true)
      try await eventually("the worker gives up on the unmigrated database") {
        !worker.process.isRunning
      }
      #expect(worker.process.terminationStatus == 1)
      let message = worker.errors()
      #expect(message.contains("trolley migrate"), "\(message)")
    }
    let unreachable = try WorkerProcess(
      databaseURL: "postgresql:///trolley?host=/nonexistent-trolley-socket",
      arguments: ["--kinds", "noop", "--poll-interval", "0.2"])
    try await Task.sleep(for: .seconds(1))
    #expect(unreachable.process.isRunning, "a database that is down is retried")
    unreachable.kill(SIGTERM)
    try await eventually("SIGTERM stops a worker waiting for its database") {
      !unreachable.process.isRunning
    }
    #expect(unreachable.process.terminationStatus == 0)
  }

  @Test func workersRideOutAPostgreSQLRestart() async throws {
    let own = try OwnCluster(prefix: "trolley-restart")
    defer { own.remove() }
    let cluster = own.cluster
    let configuration = own.configuration
    let client = PostgresClient(configuration: configuration, maximumConnections: 2)
    defer { client.shutdown() }
    let store = JobStore(client: client)
    let total = 400
    let batch = try await store.batchCreate(.init(name: "restart"))
    _ = try await store.jobInsertMany(
      .init(batchID: batch.id),
      rows: (0..<total).map { _ in
        JobInsertRow(kind: "sleep", payload: PostgresJSONB(text: #"{"ms": 25}"#))
      })
    let url = try configuration.resolvedConnectionString()
    let workers = try (0..<2).map { _ in
      try WorkerProcess(
        databaseURL: url,
        arguments: [
          "--kinds", "sleep", "--concurrency", "4", "--lease", "5", "--poll-interval", "0.2",
        ])
    }
    defer { for worker in workers { worker.stop() } }
    func finished() async throws -> Int64 {
      try await store.batchProgress(.init(batchID: batch.id)).finished
    }
    try await eventually("some jobs finish") { try await finished() >= 60 }
    // Restart the server in the middle of the batch (fast shutdown drops every connection).
    _ = try cluster.stop()
    _ = try cluster.start()
    try await eventually("every job finishes") {
      (try? await finished()) == Int64(total)
    }
    let progress = try await store.batchProgress(.init(batchID: batch.id))
    #expect(progress.counts[.succeeded] == Int64(total))
    #expect(progress.total == Int64(total))
    #expect(workers.allSatisfy { $0.process.isRunning }, "a worker died with the server")
    let leftovers = try await store.jobClaim(.init(queue: "default", limit: 10, workerID: 0))
    #expect(leftovers.isEmpty)
  }
}
