public import Foundation
public import Postgres
import Digest
import TrolleyBasics

/// Why an artifact operation failed.
public struct TrainingArtifactError: Error, CustomStringConvertible, Sendable {
  public enum Code: String, Sendable {
    /// The name holds different bytes already: the run is not deterministic; it must stop.
    case conflict
    /// The bytes read do not hash to the recorded sha256.
    case checksumMismatch
    /// No artifact of that name.
    case missing
    /// The writing job's lease is no longer current (a zombie's late write).
    case fenced
  }
  public let code: Code
  public let message: String
  public init(_ code: Code, _ message: String) {
    self.code = code
    self.message = message
  }
  public var description: String { message }
}

/// A training run's immutable artifacts (training.md, "Artifacts"): safetensors bytes under names
/// like `RUN/r0003/s02/delta`, their sha256 recorded in PostgreSQL, the bytes in 1 MiB bytea chunks
/// (default) or in a shared directory (`--artifacts DIR`, written then renamed, named by sha256 so
/// a late writer never overwrites a committed file).
public struct TrainingArtifacts: Sendable {
  public static let chunkSize = 1 << 20

  public let client: PostgresClient
  public let run: String
  /// nil: the bytes live in PostgreSQL.
  public let directory: String?

  public init(client: PostgresClient, run: String, directory: String?) {
    self.client = client
    self.run = run
    self.directory = directory
  }

  /// The hex sha256 of `bytes`.
  public static func sha256(_ bytes: [UInt8]) -> String {
    var hasher = SHA256()
    bytes.withUnsafeBufferPointer { hasher.update($0) }
    return hasher.finalizeHex()
  }

  /// The writing attempt: its job and lease token, checked (and the job row locked) in the
  /// transaction that commits the artifact.
  public struct Fence: Sendable {
    public var jobID: Int64
    public var leaseToken: Int64
    public init(jobID: Int64, leaseToken: Int64) {
      self.jobID = jobID
      self.leaseToken = leaseToken
    }
  }

  /// Stores `bytes` as `name` and returns their sha256. Storing the same bytes again is a no-op
  /// (a retried shard recomputes the same bytes); different bytes throw `.conflict`.
  @discardableResult
  public func put(_ name: String, _ bytes: [UInt8], fence: Fence?) async throws -> String {
    let sha = Self.sha256(bytes)
    if let directory {
      let path = Self.filePath(directory: directory, name: name, sha: sha)
      if !FileManager.default.fileExists(atPath: path) {
        try FileManager.default.createDirectory(
          atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let temporary =
          path
          + ".tmp.\(ProcessInfo.processInfo.processIdentifier).\(UInt64.random(in: 0...UInt64.max))"
        try Data(bytes).write(to: URL(fileURLWithPath: temporary))
        guard rename(temporary, path) == 0 else {
          throw TrainingArtifactError(
            .missing, "cannot rename \(temporary) to \(path): errno \(errno)")
        }
      }
    }
    let run = self.run
    let inDatabase = directory == nil
    try await client.withTransaction { connection in
      if let fence {
        let held = try connection.query(
          "SELECT 1 FROM jobs WHERE id = $1 AND lease_token = $2 AND state = 'running' FOR UPDATE",
          [fence.jobID, fence.leaseToken])
        guard held.count == 1 else {
          throw TrainingArtifactError(
            .fenced,
            "job \(fence.jobID) no longer holds lease \(fence.leaseToken); \(name) was not written")
        }
      }
      let existing = try connection.query(
        "SELECT sha256 FROM training_artifacts WHERE name = $1 FOR UPDATE", [name])
      if let row = existing.first {
        let old: String = try row.decode(0)
        guard old == sha else {
          throw TrainingArtifactError(
            .conflict,
            "\(name) already holds sha256 \(old), this attempt computed \(sha): the run is not deterministic (different binaries or hardware?); it stops here"
          )
        }
        return
      }
      try connection.query(
        """
        INSERT INTO training_artifacts (name, run, sha256, size, job_id, in_database)
        VALUES ($1, $2, $3, $4, $5, $6)
        """, [name, run, sha, Int64(bytes.count), fence?.jobID, inDatabase])
      guard inDatabase else { return }
      var seq: Int32 = 0
      var offset = 0
      repeat {
        let end = min(offset + Self.chunkSize, bytes.count)
        try connection.query(
          "INSERT INTO training_artifact_chunks (name, seq, bytes) VALUES ($1, $2, $3)",
          [name, seq, Array(bytes[offset..<end])], name: "training_artifact_chunk")
        seq += 1
        offset = end
      } while offset < bytes.count
    }
    return sha
  }

  /// The recorded sha256 of `name`, or nil.
  public func sha256(of name: String) async throws -> String? {
    let rows = try await client.query(
      "SELECT sha256 FROM training_artifacts WHERE name = $1", [name])
    return try rows.first.map { try $0.decode(0) }
  }

  /// The bytes of `name`, verified against the recorded sha256.
  public func get(_ name: String) async throws -> [UInt8] {
    let directory = self.directory
    let (sha, bytes) = try await client.withTransaction { connection -> (String, [UInt8]) in
      let rows = try connection.query(
        "SELECT sha256, in_database FROM training_artifacts WHERE name = $1", [name])
      guard let row = rows.first else {
        throw TrainingArtifactError(.missing, "no artifact \(name)")
      }
      let sha: String = try row.decode(0)
      let inDatabase: Bool = try row.decode(1)
      guard inDatabase else { return (sha, []) }
      var bytes: [UInt8] = []
      for chunk in try connection.query(
        "SELECT bytes FROM training_artifact_chunks WHERE name = $1 ORDER BY seq", [name])
      {
        bytes += try chunk.decode(0, as: [UInt8].self)
      }
      return (sha, bytes)
    }
    var data = bytes
    if bytes.isEmpty, let directory {
      let path = Self.filePath(directory: directory, name: name, sha: sha)
      guard let file = FileManager.default.contents(atPath: path) else {
        throw TrainingArtifactError(.missing, "\(name): \(path) is missing from --artifacts")
      }
      data = [UInt8](file)
    }
    let actual = Self.sha256(data)
    guard actual == sha else {
      throw TrainingArtifactError(
        .checksumMismatch, "\(name): the stored bytes hash to \(actual), recorded \(sha)")
    }
    return data
  }

  /// Deletes `names` (deltas after their merge, pruned rounds); files in `--artifacts` too.
  public func delete(_ names: [String]) async throws {
    guard !names.isEmpty else { return }
    let rows = try await client.query(
      "DELETE FROM training_artifacts WHERE name = ANY($1) RETURNING name, sha256, in_database",
      [names])
    guard let directory else { return }
    for row in rows {
      let name: String = try row.decode(0)
      let sha: String = try row.decode(1)
      try? FileManager.default.removeItem(
        atPath: Self.filePath(directory: directory, name: name, sha: sha))
    }
  }

  static func filePath(directory: String, name: String, sha: String) -> String {
    directory + "/" + name + "." + sha.prefix(16) + ".safetensors"
  }
}
