import Foundation
import JobQueue
import Postgres
import PostgresTesting
import Testing
import TrolleyJobContracts

@testable import TrolleyWorkers

/// Artifacts on a real PostgreSQL: chunked bytea and a shared directory, checksums, conflicts and
/// fencing (docs/training-runs.md).
@Suite struct TrainingArtifactsTests {
  static func makeRun(_ client: PostgresClient, _ name: String) async throws {
    try await client.query(
      "INSERT INTO training_runs (name, settings, batch_id) VALUES ($1, '{}', 0)", [name])
  }

  static func bytes(_ count: Int, seed: UInt8) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) }
  }

  @Test func aLargeArtifactRoundTripsInChunksAndTheSameBytesMayBeWrittenAgain() async throws {
    try await withTestDatabase { database in
      try await Self.makeRun(database.client, "run")
      let artifacts = TrainingArtifacts(client: database.client, run: "run", directory: nil)
      let data = Self.bytes(TrainingArtifacts.chunkSize * 2 + 12345, seed: 1)
      let sha = try await artifacts.put("run/r0000/s00/delta", data, fence: nil)
      #expect(sha == TrainingArtifacts.sha256(data))
      let chunks = try await database.client.query(
        "SELECT count(*) FROM training_artifact_chunks WHERE name = $1", ["run/r0000/s00/delta"]
      ).single().decode(0, as: Int64.self)
      #expect(chunks == 3)
      #expect(try await artifacts.get("run/r0000/s00/delta") == data)
      // A retry that computed the same bytes: accepted, nothing changes.
      #expect(try await artifacts.put("run/r0000/s00/delta", data, fence: nil) == sha)
    }
  }

  @Test func differentBytesUnderAnExistingNameAreAConflict() async throws {
    try await withTestDatabase { database in
      try await Self.makeRun(database.client, "run")
      let artifacts = TrainingArtifacts(client: database.client, run: "run", directory: nil)
      try await artifacts.put("run/r0001/checkpoint", Self.bytes(100, seed: 1), fence: nil)
      do {
        try await artifacts.put("run/r0001/checkpoint", Self.bytes(100, seed: 2), fence: nil)
        Issue.record("a different rewrite was accepted")
      } catch let error as TrainingArtifactError {
        #expect(error.code == .conflict)
        #expect(error.message.contains("not deterministic"))
      }
      #expect(try await artifacts.get("run/r0001/checkpoint") == Self.bytes(100, seed: 1))
    }
  }

  @Test func aTamperedChunkFailsTheChecksum() async throws {
    try await withTestDatabase { database in
      try await Self.makeRun(database.client, "run")
      let artifacts = TrainingArtifacts(client: database.client, run: "run", directory: nil)
      try await artifacts.put("run/base", Self.bytes(1000, seed: 3), fence: nil)
      try await database.client.query(
        "UPDATE training_artifact_chunks SET bytes = set_byte(bytes, 10, 0) WHERE name = $1",
        ["run/base"])
      do {
        _ = try await artifacts.get("run/base")
        Issue.record("a corrupt artifact was read")
      } catch let error as TrainingArtifactError {
        #expect(error.code == .checksumMismatch)
      }
    }
  }

  @Test func aWriteFromAnAttemptThatLostItsLeaseIsFencedOut() async throws {
    try await withTestDatabase { database in
      try await Self.makeRun(database.client, "run")
      let store = JobStore(client: database.client)
      _ = try await store.jobInsert(.init(kind: "train.shard"))
      let worker = try await store.workerRegister(
        .init(host: "h", pid: 1, version: "t", queues: ["default"], kinds: [], capacity: 1))
      let job = try #require(try await store.jobClaim(.init(limit: 1, workerID: worker)).first)
      let artifacts = TrainingArtifacts(client: database.client, run: "run", directory: nil)
      let stale = TrainingArtifacts.Fence(jobID: job.id, leaseToken: job.leaseToken - 1)
      do {
        try await artifacts.put("run/r0000/s00/delta", [1, 2, 3], fence: stale)
        Issue.record("a stale lease wrote an artifact")
      } catch let error as TrainingArtifactError {
        #expect(error.code == .fenced)
      }
      #expect(try await artifacts.sha256(of: "run/r0000/s00/delta") == nil)
      let current = TrainingArtifacts.Fence(jobID: job.id, leaseToken: job.leaseToken)
      try await artifacts.put("run/r0000/s00/delta", [1, 2, 3], fence: current)
      let writer = try await database.client.query(
        "SELECT job_id FROM training_artifacts WHERE name = $1", ["run/r0000/s00/delta"]
      ).single().decode(0, as: Int64.self)
      #expect(writer == job.id)
    }
  }

  @Test func aDirectoryHoldsTheBytesAndTheDatabaseTheChecksum() async throws {
    try await withTestDatabase { database in
      try await Self.makeRun(database.client, "run")
      let folder = NSTemporaryDirectory() + "trolley-artifacts-" + UUID().uuidString
      defer { try? FileManager.default.removeItem(atPath: folder) }
      let artifacts = TrainingArtifacts(client: database.client, run: "run", directory: folder)
      let data = Self.bytes(5000, seed: 9)
      let sha = try await artifacts.put("run/r0000/checkpoint", data, fence: nil)
      let chunks = try await database.client.query(
        "SELECT count(*) FROM training_artifact_chunks"
      ).single().decode(0, as: Int64.self)
      #expect(chunks == 0)
      let file = TrainingArtifacts.filePath(
        directory: folder, name: "run/r0000/checkpoint", sha: sha)
      #expect(FileManager.default.fileExists(atPath: file))
      #expect(try await artifacts.get("run/r0000/checkpoint") == data)
      try Data([0, 1, 2]).write(to: URL(fileURLWithPath: file))
      await #expect(throws: TrainingArtifactError.self) {
        _ = try await artifacts.get("run/r0000/checkpoint")
      }
      try await artifacts.delete(["run/r0000/checkpoint"])
      #expect(!FileManager.default.fileExists(atPath: file))
      #expect(try await artifacts.sha256(of: "run/r0000/checkpoint") == nil)
    }
  }
}
