import Foundation
import Postgres
import PostgresTesting
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// `trolley worker --model` end to end: real processes, the real database, a tiny random-weight
/// TroL checkpoint made by `trolley model synth`.
@Suite(.serialized) struct WorkerEngineTests {
  private static func jsonLines(_ text: String) throws -> [[String: Any]] {
    try text.split(separator: "\n").map {
      try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
    }
  }

  private static func export(_ batch: String, _ database: TestDatabase) async throws -> [[String:
    Any]]
  {
    let result = try await TrolleyCommand.run(
      ["export", "--batch", batch, "--state", "all", "--format", "jsonl"], database: database)
    try #require(result.exitCode == 0, "export failed: \(result.standardError)")
    return try jsonLines(result.standardOutput)
  }

  private static func unfinished(_ batch: String, _ database: TestDatabase) async throws -> Int {
    let records = try await export(batch, database)
    return records.filter {
      !["succeeded", "dead", "cancelled"].contains($0["state"] as? String ?? "")
    }.count
  }

  @Test func goodImagesAreAnsweredLikeAskAndBadOnesEndDeadWithTheirReason() async throws {
    let workspace = try await ModelWorkspace("worker-e2e", seed: 5, images: 54)
    defer { workspace.remove() }
    // Six bad inputs, each a different way to fail.
    let bad = workspace.root + "/bad"
    try FileManager.default.createDirectory(atPath: bad, withIntermediateDirectories: true)
    let good = try Data(contentsOf: URL(fileURLWithPath: workspace.images + "/sample-0000.png"))
    try Data([0xFF, 0xD8, 0xFF, 0xDB, 0x00, 0x43, 0x00] + [UInt8](repeating: 0x5A, count: 200))
      .write(to: URL(fileURLWithPath: bad + "/corrupt.jpg"))
    try good.prefix(good.count / 2).write(to: URL(fileURLWithPath: bad + "/truncated.png"))
    try Data().write(to: URL(fileURLWithPath: bad + "/empty.png"))
    // A PNG header that claims 100000 x 100000 pixels: a decompression bomb.
    var bomb: [UInt8] =
      [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13] + Array("IHDR".utf8)
    bomb += [0x00, 0x01, 0x86, 0xA0, 0x00, 0x01, 0x86, 0xA0, 8, 2, 0, 0, 0, 0, 0, 0, 0]
    try Data(bomb).write(to: URL(fileURLWithPath: bad + "/bomb.png"))
    let refused = "http://127.0.0.1:9/unreachable.png"  // discard port: nothing listens on loopback
    let question = "What is in this image?"
    var lines: [String] = []
    for index in 0..<54 {
      lines.append(
        #"{"image": "\#(workspace.images)/sample-\#(String(format: "%04d", index)).png", "question": "\#(question)"}"#
      )
    }
    for source in ["corrupt.jpg", "truncated.png", "empty.png", "bomb.png", "missing.png"] {
      lines.append(#"{"image": "\#(bad)/\#(source)", "question": "\#(question)"}"#)
    }
    lines.append(#"{"image": "\#(refused)", "question": "\#(question)"}"#)
    let manifest = workspace.root + "/manifest.jsonl"
    try lines.joined(separator: "\n").write(toFile: manifest, atomically: true, encoding: .utf8)

    try await withTestDatabase { database in
      let url = try database.configuration.resolvedConnectionString()
      let enqueue = try await TrolleyCommand.run(
        [
          "enqueue", "answer", "--images", manifest, "--batch", "sixty", "--max-attempts", "1",
          "--no-check-files", "--json",
        ],
        database: database)
      try #require(enqueue.exitCode == 0, "enqueue failed: \(enqueue.standardError)")
      let workerArguments = [
        "--model", workspace.model, "--batch-size", "4", "--max-new-tokens", "12",
        "--poll-interval", "0.2", "--image-root", workspace.root,
      ]
      let first = try WorkerProcess(databaseURL: url, arguments: workerArguments)
      let second = try WorkerProcess(databaseURL: url, arguments: workerArguments)
      try await eventually("every job of the batch ends") {
        try await Self.unfinished("sixty", database) == 0
      }
      #expect(first.process.isRunning && second.process.isRunning, "bad inputs never stop a worker")
      first.stop()
      second.stop()
      #expect(first.process.terminationStatus == 0 && second.process.terminationStatus == 0)

      let records = try await Self.export("sixty", database)
      #expect(records.count == 60)
      let succeeded = records.filter { $0["state"] as? String == "succeeded" }
      let dead = records.filter { $0["state"] as? String == "dead" }
      #expect(succeeded.count == 54)
      #expect(dead.count == 6)
      // Every answer records what produced it: the checkpoint's content hash (the folder is not
      // from the hub), the weights, the generation settings and this build.
      let version = try await TrolleyCommand.run(["--version"])
      let identity = try String(
        contentsOfFile: workspace.model + "/.trolley-identity.json", encoding: .utf8)
      // The same hash from coreutils' sha256sum: the files' hashes, then a hash of those lines.
      let shell = Process()
      shell.executableURL = URL(fileURLWithPath: "/bin/sh")
      shell.arguments = [
        "-c",
        "cd \"$0\" && printf 'model.safetensors %s\ntrol_gating.pt %s\n' "
          + "$(sha256sum model.safetensors | cut -d' ' -f1) $(sha256sum trol_gating.pt | cut -d' ' -f1)"
          + " | sha256sum | cut -d' ' -f1",
        workspace.model,
      ]
      let pipe = Pipe()
      shell.standardOutput = pipe
      try shell.run()
      let reference = String(
        decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self
      ).trimmingCharacters(in: .whitespacesAndNewlines)
      shell.waitUntilExit()
      #expect(reference.count == 64)
      for record in succeeded {
        let provenance = try #require(record["provenance"] as? [String: Any], "\(record)")
        let model = try #require(provenance["model"] as? [String: Any])
        let sha = try #require(model["sha256"] as? String)
        #expect(sha == reference, "sha256sum gives \(reference)")
        #expect(identity.contains(sha), "the cached hash is the recorded one")
        #expect(model["name"] as? String == "model")
        #expect(provenance["weights"] as? String == "f16")
        let generation = try #require(provenance["generation"] as? [String: Any])
        #expect(generation["strategy"] as? String == "greedy")
        #expect(int(generation["max_new_tokens"]) == 12)
        #expect(int(generation["propagations"]) == 2)
        let commit = try #require(provenance["trolley_commit"] as? String)
        #expect(commit.count >= 12 && version.standardOutput.contains(commit))
        #expect(version.standardOutput.contains(provenance["trolley_version"] as? String ?? "?"))
      }
      let reasons: [String: String] = [
        "corrupt.jpg": "corrupt.jpg", "truncated.png": "truncated.png", "empty.png": "empty",
        "bomb.png": "bomb.png", "missing.png": "not found", refused: "127.0.0.1:9",
      ]
      for record in dead {
        let image = record["image"] as? String ?? ""
        let error = record["error"] as? String ?? ""
        let key = try #require(
          reasons.keys.first { image.hasSuffix($0) || image == $0 }, "unexpected dead job \(image)")
        #expect(error.contains(reasons[key]!), "\(image): \(error)")
      }
      // The worker's answers, in engine batches of 4, are exactly what `trolley ask` says alone.
      for record in succeeded.prefix(54) {
        let image = try #require(record["image"] as? String)
        let ask = try await TrolleyCommand.run(
          [
            "ask", "--model", workspace.model, "--image", image, "--question", question,
            "--max-new-tokens", "12", "--json",
          ])
        try #require(ask.exitCode == 0, "ask failed: \(ask.standardError)")
        let alone = try #require(
          try JSONSerialization.jsonObject(with: Data(ask.standardOutput.utf8)) as? [String: Any])
        #expect(record["answer"] as? String == alone["answer"] as? String, "\(image)")
      }
    }
  }

  @Test func aKilledWorkerLosesNothingAndTheOthersDrainOnSIGTERM() async throws {
    let workspace = try await ModelWorkspace("worker-e2e", seed: 5, images: 40)
    defer { workspace.remove() }
    try await withTestDatabase { database in
      let url = try database.configuration.resolvedConnectionString()
      let enqueue = try await TrolleyCommand.run(
        ["enqueue", "caption", "--images", workspace.images, "--batch", "kill"], database: database)
      try #require(enqueue.exitCode == 0, "enqueue failed: \(enqueue.standardError)")
      let arguments = [
        "--model", workspace.model, "--batch-size", "2", "--max-new-tokens", "64", "--lease", "2",
        "--poll-interval", "0.2", "--image-root", workspace.images,
      ]
      let workers = try (0..<3).map { _ in try WorkerProcess(databaseURL: url, arguments: arguments)
      }
      try await eventually("some captions are done") {
        try await Self.export("kill", database).contains { $0["state"] as? String == "succeeded" }
      }
      workers[0].kill(SIGKILL)
      workers[0].process.waitUntilExit()
      try await eventually("every job ends, the killed worker's after its lease expires") {
        try await Self.unfinished("kill", database) == 0
      }
      for worker in workers.dropFirst() {
        worker.kill(SIGTERM)
        worker.process.waitUntilExit()
        #expect(worker.process.terminationStatus == 0, "SIGTERM drains and exits cleanly")
      }
      let records = try await Self.export("kill", database)
      #expect(records.count == 40, "none lost")
      #expect(records.allSatisfy { $0["state"] as? String == "succeeded" }, "every job succeeded")
      #expect(Set(records.compactMap { $0["job_id"] as? Int }).count == 40, "each exactly once")
    }
  }
}
