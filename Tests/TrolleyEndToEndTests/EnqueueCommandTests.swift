import Foundation
import TestFixtures
import Testing

/// `trolley enqueue answer|caption` against a real database.
struct EnqueueCommandTests {
  @Test func folderEnqueueIsRecursiveSortedAndIdempotent() async throws {
    try await OperatorDatabase.with { db in
      let scratch = try Scratch()
      for name in ["b.jpg", "a/c.png", "a/b/d.JPEG", "notes.txt", ".hidden.jpg"] {
        try scratch.write("photos/" + name, "x")
      }
      let first = try db.trolley(
        "enqueue", "answer", "--images", scratch.path + "/photos", "--question", "What is it?",
        "--json")
      #expect(first.status == 0, "\(first.stderr)")
      let report = try #require(try first.json() as? [String: Any])
      #expect(int(report["added"]) == 3)
      #expect(int(report["skipped"]) == 0)
      let batchID = try #require(int(report["batch_id"]))

      let again = try db.trolley(
        "enqueue", "answer", "--images", scratch.path + "/photos", "--question", "What is it?",
        "--json")
      let second = try #require(try again.json() as? [String: Any])
      #expect(int(second["added"]) == 0)
      #expect(int(second["skipped"]) == 3)
      #expect(int(second["batch_id"]) == batchID)

      let jobs = try db.trolley("jobs", "list", "--batch", String(batchID), "--json").jsonLines()
      let images = jobs.compactMap { ($0["payload"] as? [String: Any])?["image"] as? String }
      #expect(images == ["a/b/d.JPEG", "a/c.png", "b.jpg"].map { scratch.path + "/photos/" + $0 })
      #expect(
        jobs.allSatisfy {
          ($0["payload"] as? [String: Any])?["question"] as? String == "What is it?"
        })

      let shown = try #require(
        try db.trolley("batch", "show", String(batchID), "--json").json() as? [String: Any])
      #expect(int((shown["counts"] as? [String: Any])?["available"]) == 3)
    }
  }

  @Test func csvManifestSkipsAndReportsBadRowsByLine() async throws {
    try await OperatorDatabase.with { db in
      let scratch = try Scratch()
      try scratch.write("img/1.jpg", "x")
      try scratch.write("img/2.jpg", "x")
      let csv = try scratch.write(
        "m.csv",
        "image,question,id,camera\n"
          + "img/1.jpg,\"Is it red, or blue?\",q1,nikon\n"
          + "img/2.jpg,only three fields,q2\n"
          + "img/missing.jpg,Where?,q3,canon\n"
          + "img/2.jpg,\"Say \"\"cheese\"\"\nplease\",q4,leica\n"
          + "https://example.org/x.png,Remote?,q5,\n")
      let run = try db.trolley(
        "enqueue", "answer", "--images", csv, "--batch", "csv-test", "--json")
      #expect(run.status == 0, "\(run.stderr)")
      let report = try #require(try run.json() as? [String: Any])
      #expect(int(report["added"]) == 3)
      #expect(int(report["bad_rows"]) == 2)
      let issues = try #require(report["issues"] as? [[String: Any]])
      #expect(issues.compactMap { int($0["line"]) } == [3, 4])
      #expect((issues.first?["message"] as? String)?.contains("expected 4 fields") == true)
      #expect((issues.last?["message"] as? String)?.contains("image not found") == true)

      let jobs = try db.trolley("jobs", "list", "--batch", "csv-test", "--json").jsonLines()
      let payloads = jobs.compactMap { $0["payload"] as? [String: Any] }
      #expect(payloads.map { $0["id"] as? String } == ["q1", "q4", "q5"])
      #expect(payloads[1]["question"] as? String == "Say \"cheese\"\nplease")
      #expect((payloads[0]["metadata"] as? [String: Any])?["camera"] as? String == "nikon")

      let human = try db.trolley("enqueue", "answer", "--images", csv, "--batch", "csv-test")
      #expect(human.status == 0)
      #expect(human.stdout.contains("line 3: expected 4 fields"))
      #expect(human.stdout.contains("skipped 3 already enqueued"))
    }
  }

  @Test func strictRejectsTheWholeManifest() async throws {
    try await OperatorDatabase.with { db in
      let scratch = try Scratch()
      let jsonl = try scratch.write(
        "m.jsonl",
        """
        {"image": "https://h/1.jpg", "question": "ok"}
        {"image": "https://h/2.jpg", "question": "ok",}
        {"question": "no image"}
        {"image": "https://h/3.jpg"}

        """)
      let strict = try db.trolley(
        "enqueue", "answer", "--images", jsonl, "--strict", "--batch", "s")
      #expect(strict.status == 1)
      #expect(strict.stderr.contains("line 2: not valid JSON"))
      #expect(strict.stderr.contains("line 3: no \"image\""))
      #expect(strict.stderr.contains("line 4: no question"))
      #expect(strict.stderr.contains("nothing was enqueued"))
      let batches = try #require(try db.trolley("batches", "--json").json() as? [Any])
      #expect(batches.isEmpty)

      let lenient = try db.trolley("enqueue", "answer", "--images", jsonl, "--batch", "s", "--json")
      #expect(lenient.status == 0)
      #expect(int((try lenient.json() as? [String: Any])?["added"]) == 1)
    }
  }

  @Test func captionUsesTheConfiguredPromptAndItsOwnKeys() async throws {
    try await OperatorDatabase.with { db in
      let scratch = try Scratch()
      try scratch.write("config.toml", "caption_prompt = \"Describe it, briefly.\"\n")
      let jsonl = try scratch.write(
        "c.jsonl",
        #"{"image": "https://h/1.jpg"}"# + "\n"
          + #"{"image": "https://h/2.jpg", "prompt": "Own prompt"}"# + "\n")
      let run = try db.trolley(
        "enqueue", "caption", "--images", jsonl, "--config", scratch.path + "/config.toml", "--json"
      )
      #expect(run.status == 0, "\(run.stderr)")
      let jobs = try db.trolley("jobs", "list", "--kind", "trol.caption", "--json").jsonLines()
      #expect(
        jobs.compactMap { ($0["payload"] as? [String: Any])?["prompt"] as? String } == [
          "Describe it, briefly.", "Own prompt",
        ])
    }
  }
}
