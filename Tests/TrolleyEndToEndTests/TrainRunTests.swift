import Foundation
import JobQueue
import Migrations
import Postgres
import PostgresTesting
import TestFixtures
import Testing
import Training
import TroL
import TrolleyBasics
import TrolleyJobContracts
import TrolleyWorkers

#if canImport(Glibc)
  import Glibc
#endif

/// Distributed training end to end (docs/training-runs.md): real workers, real database.
@Suite(.serialized) struct TrainRunTests {
  static let model = TestFixtures.trolTiny + "/internlm2/model"

  /// A small LLaVA JSON export over the fixture's image: questions with short answers.
  static func writeData(_ scratch: Scratch) throws -> String {
    let image = scratch.path + "/images/tiny.png"
    try FileManager.default.createDirectory(
      atPath: scratch.path + "/images", withIntermediateDirectories: true)
    try FileManager.default.copyItem(
      atPath: TestFixtures.trolTiny + "/internlm2/image.png", toPath: image)
    let pairs = [
      ("What colour is it?", "red"), ("How many?", "two"), ("What is it?", "a cat"),
      ("Is it big?", "no"), ("Where is it?", "home"), ("What shape?", "round"),
    ]
    let entries = pairs.enumerated().map { i, pair -> [String: Any] in
      [
        "id": "q\(i)", "image": "images/tiny.png",
        "conversations": [
          ["from": "human", "value": "<image>\n" + pair.0], ["from": "gpt", "value": pair.1],
        ],
      ]
    }
    let data = try JSONSerialization.data(withJSONObject: entries, options: [.sortedKeys])
    let path = scratch.path + "/data.json"
    try data.write(to: URL(fileURLWithPath: path))
    return path
  }

  static func startArguments(name: String, data: String, extra: [String] = []) -> [String] {
    [
      "train", "start", "--model", model, "--data", data, "--trainable", "step1", "--rounds", "3",
      "--shards", "3", "--inner-steps", "2", "--batch-size", "1", "--lr", "0.01", "--min-lr",
      "0.001", "--seed", "7", "--name", name,
    ] + extra
  }

  static let workerArguments = [
    "--kinds", "train.shard,train.merge", "--lease", "3", "--poll-interval", "0.2",
  ]

  static func show(_ run: String, environment: [String: String]) throws -> [String: Any] {
    let shown = try TrolleyBinary.run(
      ["train", "show", run, "--json"], environment: environment)
    #expect(shown.status == 0, "\(shown.stderr)")
    return try #require(try shown.json() as? [String: Any])
  }

  static func finished(_ run: String, environment: [String: String]) -> Bool {
    guard let shown = try? show(run, environment: environment) else { return false }
    return shown["state"] as? String == "finished"
  }

  /// sha256 of each exported model file.
  static func exportedHashes(_ folder: String) throws -> [String: String] {
    var hashes: [String: String] = [:]
    for name in ["model.safetensors", "trol_gating.pt"] {
      let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: folder + "/" + name)))
      hashes[name] = TrainingArtifacts.sha256(bytes)
    }
    return hashes
  }

  @Test func threeWorkersTrainThreeRoundsAndAKilledWorkerChangesNoByte() async throws {
    let scratch = try Scratch()
    let data = try Self.writeData(scratch)
    // The undisturbed run, on the shared test server.
    let undisturbed = try await OperatorDatabase.with { db -> [String: String] in
      let started = try TrolleyBinary.run(
        Self.startArguments(name: "calm", data: data), environment: db.environment)
      try #require(started.status == 0, "\(started.stderr)")
      let url = try #require(db.environment["TROLLEY_DATABASE_URL"])
      let workers = try (0..<3).map { _ in
        try WorkerProcess(databaseURL: url, arguments: Self.workerArguments)
      }
      defer { for w in workers { w.stop() } }
      try await eventually("the run finishes", limit: .seconds(600)) {
        Self.finished("calm", environment: db.environment)
      }
      let shown = try Self.show("calm", environment: db.environment)
      let rounds = try #require(shown["rounds"] as? [[String: Any]])
      #expect(rounds.count == 3)
      let losses = rounds.compactMap { $0["loss"] as? Double }
      #expect(losses.count == 3)
      #expect(losses[1] < losses[0] && losses[2] < losses[1], "loss per round: \(losses)")
      for round in rounds {
        #expect((round["shards"] as? [[String: Any]])?.count == 3)
      }
      let out = scratch.path + "/calm-model"
      let exported = try db.trolley("train", "export", "calm", "--out", out)
      try #require(exported.status == 0, "\(exported.stderr)")
      let asked = try db.trolley(
        "ask", "--model", out, "--image", scratch.path + "/images/tiny.png", "--question",
        "What colour is it?", "--max-new-tokens", "4")
      #expect(asked.status == 0, "\(asked.stderr)")
      return try Self.exportedHashes(out)
    }

    // The same run against a cluster of our own: one worker SIGKILLed in the middle of a
    // round-2 shard, and PostgreSQL restarted once.
    let home = URL(fileURLWithPath: NSTemporaryDirectory())
      .appendingPathComponent("trolley-train-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
    let cluster = LocalCluster(home: home, durable: false)
    defer {
      _ = try? cluster.stop()
      try? FileManager.default.removeItem(at: home)
    }
    let configuration = try cluster.start()
    let setup = try PostgresConnection(configuration: configuration)
    _ = try Migrator.bundled().migrate(setup)
    setup.close()
    let url = try configuration.resolvedConnectionString()
    let environment = ["TROLLEY_DATABASE_URL": url, "NO_COLOR": "1"]
    let started = try TrolleyBinary.run(
      Self.startArguments(name: "stormy", data: data), environment: environment)
    try #require(started.status == 0, "\(started.stderr)")
    let client = PostgresClient(configuration: configuration, maximumConnections: 1)
    defer { client.shutdown() }
    var workers = try (0..<3).map { _ in
      try WorkerProcess(databaseURL: url, arguments: Self.workerArguments)
    }
    defer { for w in workers { w.stop() } }
    // Wait for a round-1 (the second round) shard to be running with progress, then kill its
    // worker.
    var victimJob: Int64 = 0
    var victimWorker: Int64 = 0
    try await eventually("a round-2 shard runs", limit: .seconds(600)) {
      let rows = try await client.query(
        """
        SELECT id, lease_owner FROM jobs
        WHERE kind = 'train.shard' AND (payload->>'round')::int = 1 AND state = 'running'
        ORDER BY id LIMIT 1
        """)
      guard let row = rows.first else { return false }
      victimJob = try row.decode(0)
      victimWorker = try row.decode(1)
      return true
    }
    let pid = try await client.query("SELECT pid FROM workers WHERE id = $1", [victimWorker])
      .single().decode(0, as: Int32.self)
    let victim = try #require(workers.firstIndex { $0.pid == pid })
    workers[victim].kill(SIGKILL)
    workers[victim].process.waitUntilExit()
    workers.remove(at: victim)
    _ = try cluster.stop()
    _ = try cluster.start()
    try await eventually("the disturbed run finishes", limit: .seconds(600)) {
      Self.finished("stormy", environment: environment)
    }
    let after = PostgresClient(configuration: configuration, maximumConnections: 1)
    defer { after.shutdown() }
    let attempts = try await after.query(
      "SELECT attempt, crash_count FROM jobs WHERE id = $1", [victimJob]
    ).single()
    #expect(try attempts.decode(1, as: Int32.self) >= 1, "the killed shard was not retried")
    let out = scratch.path + "/stormy-model"
    let exported = try TrolleyBinary.run(
      ["train", "export", "stormy", "--out", out], environment: environment)
    try #require(exported.status == 0, "\(exported.stderr)")
    #expect(try Self.exportedHashes(out) == undisturbed)
  }

  /// Acceptance: a shard that fails permanently (a corrupt data file) stops the run with the
  /// shard and its reason in `train show`; once the file is fixed, `trolley jobs retry` of the
  /// dead shards it names revives them and the merges and rounds their death cancelled, and the
  /// run completes.
  @Test func aCorruptDataFileStopsTheRunVisiblyAndJobsRetryFinishesIt() async throws {
    let scratch = try Scratch()
    let data = try Self.writeData(scratch)
    let good = try Data(contentsOf: URL(fileURLWithPath: data))
    try await OperatorDatabase.with { db in
      let started = try db.trolley(
        "train", "start", "--model", Self.model, "--data", data, "--trainable", "step1",
        "--rounds", "2", "--shards", "2", "--inner-steps", "1", "--batch-size", "1", "--name",
        "broken")
      try #require(started.status == 0, "\(started.stderr)")
      try Data("[{\"id\": 1, \"conversations\": [".utf8).write(to: URL(fileURLWithPath: data))
      let url = try #require(db.environment["TROLLEY_DATABASE_URL"])
      func roundZeroShards() throws -> [[String: Any]] {
        let rounds = try #require(
          try Self.show("broken", environment: db.environment)["rounds"] as? [[String: Any]])
        return try #require(rounds.first?["shards"] as? [[String: Any]])
      }
      do {
        let worker = try WorkerProcess(databaseURL: url, arguments: Self.workerArguments)
        defer { worker.stop() }
        try await eventually("both round-0 shards end dead") {
          (try? roundZeroShards())?.allSatisfy { $0["state"] as? String == "dead" } == true
        }
      }
      let shown = try Self.show("broken", environment: db.environment)
      #expect(shown["state"] as? String == "failed")
      let failed = try #require(shown["failed"] as? [String])
      #expect(failed.contains { $0.contains("data.json") && $0.contains("not a LLaVA JSON") })
      let rounds = try #require(shown["rounds"] as? [[String: Any]])
      #expect(rounds.map { $0["merge"] as? String } == ["cancelled", "cancelled"])
      let text = try db.trolley("train", "show", "broken")
      #expect(text.stdout.contains("failed: round 0 shard 0 (job "))
      #expect(text.stdout.contains("not a LLaVA JSON"))

      try good.write(to: URL(fileURLWithPath: data))
      let dead = try roundZeroShards().compactMap { $0["job"] as? Int }.map(String.init)
      #expect(dead.count == 2)
      let retried = try TrolleyBinary.run(
        ["jobs", "retry"] + dead + ["--json"], environment: db.environment)
      #expect(retried.status == 0, "\(retried.stderr)")
      let after = try Self.show("broken", environment: db.environment)
      #expect(after["state"] as? String == "running")
      let worker = try WorkerProcess(databaseURL: url, arguments: Self.workerArguments)
      defer { worker.stop() }
      try await eventually("the retried run finishes") {
        Self.finished("broken", environment: db.environment)
      }
      let done = try #require(
        try Self.show("broken", environment: db.environment)["rounds"] as? [[String: Any]])
      #expect(done.map { $0["merge"] as? String } == ["succeeded", "succeeded"])
      #expect(done.allSatisfy { $0["loss"] is Double })
    }
  }

  /// `train.eval` after each merge, on an `--eval` file: loss and greedy exact match per round in
  /// `show --json` rounds[].eval; no other job waits for it, the run's completion does. The exact
  /// match of the last round equals what `trolley ask` answers on the exported model.
  @Test func evalScoresEachRoundOffTheCriticalPath() async throws {
    let scratch = try Scratch()
    let data = try Self.writeData(scratch)
    let held = [("What colour is it?", "Red."), ("Is it big?", "no")]
    let entries = held.enumerated().map { i, pair -> [String: Any] in
      [
        "id": "e\(i)", "image": "images/tiny.png",
        "conversations": [
          ["from": "human", "value": "<image>\n" + pair.0], ["from": "gpt", "value": pair.1],
        ],
      ]
    }
    let evalPath = scratch.path + "/eval.json"
    try JSONSerialization.data(withJSONObject: entries).write(to: URL(fileURLWithPath: evalPath))
    try await OperatorDatabase.with { db in
      let started = try db.trolley(
        "train", "start", "--model", Self.model, "--data", data, "--trainable", "step1",
        "--rounds", "2", "--shards", "2", "--inner-steps", "2", "--batch-size", "1", "--lr",
        "0.01", "--warmup-steps", "1", "--eval", evalPath, "--no-traversal", "--name", "scored",
        "--json")
      try #require(started.status == 0, "\(started.stderr)")
      let summary = try #require(try started.json() as? [String: Any])
      #expect(summary["jobs"] as? Int == 2 * (2 + 2))
      #expect(summary["held_out"] as? Int == 2)
      // Nothing depends on an eval job: the next round waits for the merge only.
      let evalDependents = try await db.database.client.query(
        """
        SELECT count(*) FROM job_dependencies d JOIN jobs e ON e.id = d.depends_on
        WHERE e.kind = 'train.eval'
        """
      ).single().decode(0, as: Int64.self)
      #expect(evalDependents == 0)
      // Memory-aware claims: a worker offering less than a shard declares claims none of them.
      let memory = try #require(summary["shard_memory_bytes"] as? Int)
      #expect(memory > 1 << 20)
      let small = try db.trolley(
        "worker", "--kinds", "train.shard,train.merge,train.eval", "--memory-limit", "1M",
        "--once", "--poll-interval", "0.1")
      #expect(small.status == 0, "\(small.stderr)")
      let attempted = try await db.database.client.query(
        "SELECT count(*) FROM jobs WHERE kind LIKE 'train.%' AND attempt > 0"
      ).single().decode(0, as: Int64.self)
      #expect(attempted == 0)
      let url = try #require(db.environment["TROLLEY_DATABASE_URL"])
      let worker = try WorkerProcess(
        databaseURL: url,
        arguments: [
          "--kinds", "train.shard,train.merge,train.eval", "--poll-interval", "0.2",
          "--memory-limit", "\(memory >> 20 + 1)M",
        ])
      defer { worker.stop() }
      try await eventually("the run finishes", limit: .seconds(600)) {
        Self.finished("scored", environment: db.environment)
      }
      let rounds = try #require(
        try Self.show("scored", environment: db.environment)["rounds"] as? [[String: Any]])
      #expect(rounds.count == 2)
      var last: Double?
      for round in rounds {
        let eval = try #require(round["eval"] as? [String: Any], "\(round)")
        #expect(eval["state"] as? String == "succeeded")
        let loss = try #require(eval["loss"] as? Double)
        #expect(loss.isFinite && loss > 0)
        #expect(eval["examples"] as? Int == 2)
        #expect(eval["answered"] as? Int == 2)
        last = eval["exact_match"] as? Double
      }
      let text = try db.trolley("train", "show", "scored")
      #expect(text.stdout.contains("eval loss"), "\(text.stdout)")

      let out = scratch.path + "/scored-model"
      let exported = try db.trolley("train", "export", "scored", "--out", out)
      try #require(exported.status == 0, "\(exported.stderr)")
      // Trained without traversal (the ablation): the export says so, and eval answered so.
      let config = try #require(
        try JSONSerialization.jsonObject(
          with: Data(contentsOf: URL(fileURLWithPath: out + "/config.json"))) as? [String: Any])
      #expect(config["trol_traversal"] as? Bool == false)
      var correct = 0
      for (question, answer) in held {
        let asked = try db.trolley(
          "ask", "--model", out, "--weights", "f32", "--image", scratch.path + "/images/tiny.png",
          "--question", question, "--max-new-tokens", "20", "--traversal", "off", "--json")
        try #require(asked.status == 0, "\(asked.stderr)")
        let reply = try #require((try asked.json() as? [String: Any])?["answer"] as? String)
        let fold = { (t: String) -> String in
          var x = t.lowercased().trimmingCharacters(in: .whitespacesAndNewlines)
          if x.hasSuffix(".") { x.removeLast() }
          return x
        }
        if fold(reply) == fold(answer) { correct += 1 }
      }
      #expect(last == Double(correct) / 2)
    }
  }

  @Test func oneShardOneStepPlainAveragingEqualsTheLocalTrainer() async throws {
    let scratch = try Scratch()
    let data = try Self.writeData(scratch)
    let rounds = 3
    try await OperatorDatabase.with { db in
      let started = try db.trolley(
        "train", "start", "--model", Self.model, "--data", data, "--trainable", "step1",
        "--rounds", String(rounds), "--shards", "1", "--inner-steps", "1", "--batch-size", "2",
        "--lr", "0.01", "--min-lr", "0.001", "--seed", "3", "--outer-lr", "1",
        "--outer-momentum", "0", "--name", "single")
      try #require(started.status == 0, "\(started.stderr)")
      let url = try #require(db.environment["TROLLEY_DATABASE_URL"])
      let worker = try WorkerProcess(databaseURL: url, arguments: Self.workerArguments)
      defer { worker.stop() }
      try await eventually("the run finishes") {
        Self.finished("single", environment: db.environment)
      }
      let shown = try Self.show("single", environment: db.environment)
      let distributed = try #require(shown["rounds"] as? [[String: Any]]).compactMap {
        $0["loss"] as? Double
      }

      // The single-process trainer of part 1, same settings.
      let settings = TrainingRunSettings(
        run: "single", model: Self.model, data: data, trainable: "step1", rounds: rounds,
        shards: 1, innerSteps: 1, batchSize: 2, lr: 0.01, minLR: 0.001, weightDecay: 0,
        maxGradNorm: 1, loraRank: 64, loraAlpha: 64, seed: 3, outerLR: 1, outerMomentum: 0,
        artifacts: nil)
      let model = try DiLoCoRound.model(settings)
      let builder = try SampleBuilder(modelDirectory: Self.model)
      let samples = try LLaVAData.samples(
        path: data, builder: builder, featureWidth: model.visionFeatureWidth)
      let trainer = try Trainer(
        model: model, samples: samples, settings: try DiLoCoRound.trainerSettings(settings))
      var local: [Double] = []
      for _ in 0..<rounds { local.append(try trainer.trainStep().loss) }
      #expect(distributed.count == rounds)
      for (a, b) in zip(distributed, local) {
        #expect(abs(a - b) <= 1e-6 * max(1, abs(b)), "losses \(distributed) vs \(local)")
      }
      let artifacts = TrainingArtifacts(client: db.database.client, run: "single", directory: nil)
      let final = try DiLoCoRound.readTensors(
        try await artifacts.get(TrainingArtifactName.checkpoint("single", round: rounds - 1))
      ).tensors
      for p in trainer.optimizer.parameters {
        let stored = try #require(final[p.name])
        let mine = p.value.floats
        let worst = zip(stored, mine).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= 1e-6, "\(p.name) differs by \(worst)")
      }
    }
  }
}
