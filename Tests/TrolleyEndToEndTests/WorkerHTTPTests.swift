import Foundation
import JobQueue
import PostgresTesting
import Testing

/// `trolley worker` fetching images over HTTP from a server on loopback: real processes, the real
/// database, a tiny random-weight model made by `trolley model synth`.
@Suite(.serialized) struct WorkerHTTPTests {
  static let question = "What is in this image?"

  /// A synthesized model, one sample image and a loopback server.
  struct Workspace {
    let files: ModelWorkspace
    let server: LoopbackHTTPServer
    var root: String { files.root }
    var model: String { files.model }
    var image: String { files.images + "/sample-0000.png" }

    init() async throws {
      files = try await ModelWorkspace("worker-http", seed: 11, images: 1)
      server = try LoopbackHTTPServer()
    }

    var imageBytes: [UInt8] {
      get throws { [UInt8](try Data(contentsOf: URL(fileURLWithPath: image))) }
    }

    func remove() {
      server.stop()
      files.remove()
    }

    /// Enqueues one answer job for `url` in batch `batch`.
    func enqueue(_ url: String, batch: String, database: TestDatabase) async throws {
      let manifest = root + "/\(batch).jsonl"
      try #"{"image": "\#(url)", "question": "\#(WorkerHTTPTests.question)"}"#.write(
        toFile: manifest, atomically: true, encoding: .utf8)
      let enqueue = try await TrolleyCommand.run(
        ["enqueue", "answer", "--images", manifest, "--batch", batch, "--no-check-files"],
        database: database)
      try #require(enqueue.exitCode == 0, "enqueue failed: \(enqueue.standardError)")
    }

    /// Runs `trolley worker --once` until the queue has nothing left for it.
    func workOnce(_ database: TestDatabase, extra: [String] = []) async throws {
      let worker = try await TrolleyCommand.run(
        [
          "worker", "--model", model, "--once", "--max-new-tokens", "12", "--poll-interval", "0.2",
          "--no-maintenance", "--allow-private-urls",
        ] + extra, database: database)
      try #require(worker.exitCode == 0, "the worker failed: \(worker.standardError)")
    }

    /// What `trolley ask` answers about the image file.
    func askAnswer() async throws -> String {
      let ask = try await TrolleyCommand.run([
        "ask", "--model", model, "--image", image, "--question", WorkerHTTPTests.question,
        "--max-new-tokens", "12", "--json",
      ])
      try #require(ask.exitCode == 0, "ask failed: \(ask.standardError)")
      let json = try #require(
        try JSONSerialization.jsonObject(with: Data(ask.standardOutput.utf8)) as? [String: Any])
      return try #require(json["answer"] as? String)
    }
  }

  /// The batch's one job as `trolley export` writes it.
  static func exported(_ batch: String, _ database: TestDatabase) async throws -> [String: Any] {
    let export = try await TrolleyCommand.run(
      ["export", "--batch", batch, "--state", "all", "--format", "jsonl"], database: database)
    try #require(export.exitCode == 0, "export failed: \(export.standardError)")
    let lines = export.standardOutput.split(separator: "\n")
    try #require(lines.count == 1, "expected one job, got \(export.standardOutput)")
    return try #require(
      try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
  }

  @Test func anImageServedOnLoopbackIsAnsweredLikeTheFile() async throws {
    let workspace = try await Workspace()
    defer { workspace.remove() }
    workspace.server.serve("/images/cat.png", .init(body: try workspace.imageBytes))
    try await withTestDatabase { database in
      try await workspace.enqueue(
        workspace.server.url("/images/cat.png"), batch: "http", database: database)
      try await workspace.workOnce(database)
      let record = try await Self.exported("http", database)
      #expect(record["state"] as? String == "succeeded", "\(record)")
      #expect(record["answer"] as? String == (try await workspace.askAnswer()))
      #expect(workspace.server.hitCount("/images/cat.png") == 1)
    }
  }

  @Test func aSlowServerTimesOutIsRetriedAndSucceedsOnceItRecovers() async throws {
    let workspace = try await Workspace()
    defer { workspace.remove() }
    let bytes = try workspace.imageBytes
    // Headers at once, then silence well past the worker's 1-second --fetch-timeout.
    workspace.server.serve("/slow.png", .init(body: bytes, stallBeforeBody: .seconds(4)))
    try await withTestDatabase { database in
      try await workspace.enqueue(
        workspace.server.url("/slow.png"), batch: "slow", database: database)
      try await workspace.workOnce(database, extra: ["--fetch-timeout", "1"])
      let failed = try await Self.exported("slow", database)
      #expect(failed["state"] as? String == "retrying", "\(failed)")
      #expect(failed["attempts"] as? Int == 1)
      let error = try #require(failed["error"] as? String)
      #expect(error.contains("timed out"), "\(error)")
      #expect(error.contains(workspace.server.url("/slow.png")), "\(error)")
      #expect(workspace.server.hitCount("/slow.png") >= 2, "retried in process before failing")

      // The server recovers; the job's backoff is cut short and a worker runs it again.
      workspace.server.serve("/slow.png", .init(body: bytes))
      let promoted = try await JobStore(client: database.client).jobPromoteDue(
        .init(now: Date().addingTimeInterval(3600)))
      #expect(promoted == 1)
      try await workspace.workOnce(database, extra: ["--fetch-timeout", "1"])
      let record = try await Self.exported("slow", database)
      #expect(record["state"] as? String == "succeeded", "\(record)")
      #expect(record["attempts"] as? Int == 2)
      #expect(record["answer"] as? String == (try await workspace.askAnswer()))
    }
  }
}
