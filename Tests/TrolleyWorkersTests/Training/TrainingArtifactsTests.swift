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

  /// Retention (`train start --keep-rounds N`): rounds older than the last N merged ones lose
  /// their checkpoint, momentum and states, except exported rounds, rounds whose eval has yet to
  /// run, and the base.
  @Test func keepRoundsPrunesOldRoundsButNeverTheLatestExportedOrUnevaluatedOnes() async throws {
    try await withTestDatabase { database in
      let client = database.client
      let store = JobStore(client: client)
      let batch = try await store.batchCreate(BatchCreateParams(name: "train keep"))
      try await client.query(
        "INSERT INTO training_runs (name, settings, batch_id, exported_rounds) VALUES ($1, '{}', $2, '{1}')",
        ["keep", batch.id])
      let settings = TrainingRunSettings(
        run: "keep", model: "/m", data: "/d", trainable: "step1", rounds: 6, shards: 2,
        innerSteps: 1, batchSize: 1, lr: 1e-3, minLR: 1e-4, weightDecay: 0, maxGradNorm: 1,
        loraRank: 4, loraAlpha: 4, seed: 0, outerLR: 0.7, outerMomentum: 0.9, artifacts: nil,
        evalFraction: 0.1, keepRounds: 2)
      // Round 2's eval has not run yet: its checkpoint must stay.
      _ = try await store.jobInsertMany(
        JobInsertManyParams(batchID: batch.id),
        rows: [
          JobInsertRow(
            kind: TrainEval.name,
            payload: PostgresJSONB(text: try TrainEval.encode(.init(settings: settings, round: 2))))
        ])
      let artifacts = TrainingArtifacts(client: client, run: "keep", directory: nil)
      try await artifacts.put("keep/base", Self.bytes(10, seed: 9), fence: nil)
      var all: [String] = []
      for r in 0...5 {
        var names = [
          TrainingArtifactName.checkpoint("keep", round: r),
          TrainingArtifactName.momentum("keep", round: r),
        ]
        for s in 0..<2 { names.append(TrainingArtifactName.state("keep", round: r, shard: s)) }
        for (i, name) in names.enumerated() {
          try await artifacts.put(name, Self.bytes(10, seed: UInt8(r * 10 + i)), fence: nil)
        }
        all += names
      }
      let settingsJobs = TrainingJobSettings(client: client)
      try await settingsJobs.prune(settings, merged: 5, exceptJob: 0)
      var left: Set<String> = []
      for name in all + ["keep/base"] where try await artifacts.sha256(of: name) != nil {
        left.insert(name)
      }
      // Kept: the last two merged rounds (4, 5), the exported round 1, round 2 (eval pending),
      // and the base; rounds 0 and 3 are gone entirely.
      for r in [1, 2, 4, 5] {
        #expect(left.contains(TrainingArtifactName.checkpoint("keep", round: r)), "round \(r)")
        #expect(left.contains(TrainingArtifactName.state("keep", round: r, shard: 1)))
      }
      #expect(left.contains("keep/base"))
      for r in [0, 3] {
        #expect(!left.contains(TrainingArtifactName.checkpoint("keep", round: r)), "round \(r)")
        #expect(!left.contains(TrainingArtifactName.momentum("keep", round: r)))
        #expect(!left.contains(TrainingArtifactName.state("keep", round: r, shard: 0)))
      }
      // Without --keep-rounds nothing is pruned.
      var keepAll = settings
      keepAll.keepRounds = nil
      try await settingsJobs.prune(keepAll, merged: 5, exceptJob: 0)
      #expect(
        try await artifacts.sha256(of: TrainingArtifactName.checkpoint("keep", round: 1)) != nil)
    }
  }
}
