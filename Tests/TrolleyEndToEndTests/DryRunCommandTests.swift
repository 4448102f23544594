import Foundation
import JobQueue
import Postgres
import TestFixtures
import Testing

/// `--dry-run` on enqueue, prune, jobs retry and jobs cancel shows what would happen and changes
/// nothing; an enqueue that adds nothing leaves no empty batch; the folder walk reports what it
/// skipped.
struct DryRunCommandTests {
  @Test func enqueueDryRunCountsExactlyAndChangesNothing() async throws {
    try await OperatorDatabase.with { db in
      let scratch = try Scratch()
      for name in ["a.jpg", "b.webp", "c.gif", "d.bmp", "e.heic", "notes.txt", ".DS_Store"] {
        try scratch.write("photos/" + name, "x")
      }
      let args = [
        "enqueue", "answer", "--images", scratch.path + "/photos", "--question", "Q?", "--batch",
        "dry",
      ]
      let dry = try TrolleyBinary.run(args + ["--dry-run", "--json"], environment: db.environment)
      #expect(dry.status == 0, "\(dry.stderr)")
      let report = try #require(try dry.json() as? [String: Any])
      #expect(report["dry_run"] as? Bool == true)
      #expect(int(report["added"]) == 4)
      #expect(report["batch_id"] is NSNull, "a new batch is not created by a dry run")
      #expect((report["sample"] as? [Any])?.count == 4)
      #expect(int(report["skipped_files"]) == 3)
      let batches = try db.trolley("batches", "--json")
      #expect(!batches.stdout.contains("\"dry\""), "\(batches.stdout)")

      let text = try TrolleyBinary.run(args + ["--dry-run"], environment: db.environment)
      #expect(text.stdout.contains("Dry run: would add 4 jobs"), "\(text.stdout)")
      #expect(text.stdout.contains("Nothing was changed."))
      #expect(text.stdout.contains("e.heic: .heic is not an image format"), "\(text.stdout)")
      #expect(text.stdout.contains(".DS_Store: hidden"))

      let real = try TrolleyBinary.run(args + ["--json"], environment: db.environment)
      #expect(int((try real.json() as? [String: Any])?["added"]) == 4)
      // Now the dry run sees them as already enqueued, in the existing batch.
      let again = try TrolleyBinary.run(
        args + ["--dry-run", "--json"], environment: db.environment)
      let second = try #require(try again.json() as? [String: Any])
      #expect(int(second["added"]) == 0 && int(second["skipped"]) == 4)
      #expect(int(second["batch_id"]) != nil)
    }
  }

  @Test func anEnqueueThatAddsNothingLeavesNoEmptyBatch() async throws {
    try await OperatorDatabase.with { db in
      let scratch = try Scratch()
      let manifest = try scratch.write("bad.jsonl", #"{"question": "no image"}"# + "\n")
      let run = try db.trolley(
        "enqueue", "answer", "--images", manifest, "--batch", "never", "--json")
      #expect(run.status == 1)
      let batches = try db.trolley("batches", "--json")
      #expect(!batches.stdout.contains("\"never\""), "\(batches.stdout)")
    }
  }

  @Test func retryCancelAndPruneDryRunsChangeNothing() async throws {
    try await OperatorDatabase.with { db in
      let scratch = try Scratch()
      var lines = ""
      for i in 0..<7 {
        lines += #"{"image":"https://h/\#(i).jpg","question":"q","id":"\#(i)"}"# + "\n"
      }
      let enqueue = try db.trolley(
        "enqueue", "answer", "--images", try scratch.write("m.jsonl", lines), "--batch", "b")
      #expect(enqueue.status == 0, "\(enqueue.stderr)")
      // Three jobs die, four succeed.
      _ = try await db.work { job in
        let id =
          (try? JSONSerialization.jsonObject(with: Data(job.payload.text.utf8)))
          .flatMap { ($0 as? [String: Any])?["id"] as? String } ?? ""
        return Int(id)! < 3
          ? .failedPermanently(error: "bad image \(id)")
          : .succeeded(result: PostgresJSONB(text: #"{"answer":"a"}"#))
      }
      let retry = try db.trolley("jobs", "retry", "--batch", "b", "--dry-run", "--json")
      #expect(retry.status == 0, "\(retry.stderr)")
      let preview = try #require(try retry.json() as? [String: Any])
      #expect(int(preview["matched"]) == 3)
      #expect(int((preview["by_state"] as? [String: Any])?["dead"]) == 3)
      #expect((preview["sample"] as? [Any])?.count == 3)
      let retryText = try db.trolley("jobs", "retry", "--batch", "b", "--dry-run")
      #expect(
        retryText.stdout.contains("Dry run: would retry 3 jobs (dead 3)"), "\(retryText.stdout)")
      #expect(retryText.stdout.contains("bad image"))

      let cancel = try db.trolley("jobs", "cancel", "--batch", "b", "--dry-run", "--json")
      #expect(int((try cancel.json() as? [String: Any])?["matched"]) == 0)

      // Succeeded jobs are pruned only when named (issue 13: results are kept by default).
      let prune = try db.trolley(
        "prune", "--older-than", "0s", "--state", "succeeded,dead,cancelled", "--dry-run", "--json")
      #expect(prune.status == 0, "\(prune.stderr)")
      let pruned = try #require(try prune.json() as? [String: Any])
      #expect(pruned["dry_run"] as? Bool == true)
      #expect(int(pruned["total"]) == 7)
      #expect((pruned["sample"] as? [Any])?.count == 5)
      let pruneText = try db.trolley(
        "prune", "--older-than", "0s", "--state", "succeeded,dead,cancelled", "--dry-run")
      #expect(
        pruneText.stdout.hasPrefix("Dry run: would delete 7 finished jobs"), "\(pruneText.stdout)")

      // Nothing changed: still 3 dead and 4 succeeded.
      let shown = try #require(
        try db.trolley("batch", "show", "b", "--json").json() as? [String: Any])
      let counts = shown["counts"] as? [String: Any]
      #expect(int(counts?["dead"]) == 3 && int(counts?["succeeded"]) == 4)
      #expect(shown["eta_seconds"] is NSNull, "a finished batch has no ETA")
    }
  }
}
