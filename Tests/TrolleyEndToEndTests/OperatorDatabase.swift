import Foundation
import JobQueue
import Postgres
import PostgresTesting
import Testing

/// A migrated test database and the environment that points the binary at it.
struct OperatorDatabase {
  let database: TestDatabase
  let environment: [String: String]
  let store: JobStore

  static func with<T>(_ body: (OperatorDatabase) async throws -> T) async throws -> T {
    try await withTestDatabase { database in
      let url = try database.configuration.resolvedConnectionString()
      return try await body(
        OperatorDatabase(
          database: database, environment: ["TROLLEY_DATABASE_URL": url, "NO_COLOR": "1"],
          store: JobStore(client: database.client)))
    }
  }

  /// Runs the binary against this database.
  func trolley(_ arguments: String..., input: String? = nil, cwd: String? = nil) throws -> CLIRun {
    try TrolleyBinary.run(arguments, environment: environment, input: input, currentDirectory: cwd)
  }

  /// Claims every available job and finishes it the way `outcome` says, as a worker would.
  func work(_ outcome: @escaping @Sendable (ClaimedJob) -> JobOutcome) async throws -> Int {
    let worker = try await store.workerRegister(
      WorkerRegisterParams(
        host: "test-host", pid: 4242, version: "test", queues: ["default"], kinds: [], capacity: 100
      ))
    var total = 0
    while true {
      let jobs = try await store.jobClaim(JobClaimParams(limit: 100, workerID: worker))
      if jobs.isEmpty { break }
      total += jobs.count
      _ = try await store.jobCompleteMany(
        JobCompleteManyParams(completions: jobs.map { JobCompletion($0, outcome($0)) }))
    }
    return total
  }
}

/// Reads a JSON object's field as an integer (JSONSerialization gives NSNumber).
func int(_ value: Any?) -> Int? { (value as? NSNumber)?.intValue }
