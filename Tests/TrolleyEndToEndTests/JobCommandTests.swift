import Foundation
import JobQueue
import Postgres
import TestFixtures
import Testing
import TrolleyCLIKit

/// `trolley jobs retry|cancel` by filter, `queues`, `prune`, exit codes and help.
struct JobCommandTests {
  @Test func retryAndCancelByFilter() async throws {
    try await OperatorDatabase.with { db in
      let scratch = try Scratch()
      var manifest = ""
      for index in 0..<6 { manifest += "https://h/\(index).jpg,q\(index)\n" }
      let path = try scratch.write("m.csv", "image,question\n" + manifest)
      #expect(try db.trolley("enqueue", "answer", "--images", path, "--batch", "b1").status == 0)
      // Jobs 0-2 die with a timeout, 3-5 with a decode error.
      _ = try await db.work { job in
        let question = (try? JSONParser.parse(job.payload.text))?["question"]?.stringValue ?? ""
        let slow = ["q0", "q1", "q2"].contains(question)
        return .failedPermanently(error: slow ? "Timed out after 30s" : "cannot decode image")
      }
      let retry = try db.trolley("jobs", "retry", "--batch", "b1", "--error", "timed OUT", "--json")
      #expect(retry.status == 0, "\(retry.stderr)")
      #expect(int((try retry.json() as? [String: Any])?["retried"]) == 3)
      let available = try db.trolley(
        "jobs", "list", "--batch", "b1", "--state", "available", "--json"
      ).jsonLines()
      #expect(available.count == 3)

      let cancel = try db.trolley("jobs", "cancel", "--batch", "b1", "--json")
      #expect(cancel.status == 0, "\(cancel.stderr)")
      #expect(int((try cancel.json() as? [String: Any])?["cancelled"]) == 3)
      let counts = try #require(
        (try db.trolley("batch", "show", "b1", "--json").json() as? [String: Any])?["counts"]
          as? [String: Any])
      #expect(int(counts["cancelled"]) == 3)
      #expect(int(counts["dead"]) == 3)

      let refused = try db.trolley("jobs", "cancel")
      #expect(refused.status == 2)
      #expect(refused.stderr.contains("say which jobs to cancel"))
    }
  }

  @Test func workersListTheirJobsPerMinute() async throws {
    try await OperatorDatabase.with { db in
      #expect(try db.trolley("workers").stdout.contains("No workers are registered"))
      #expect(try (db.trolley("workers", "--json").json() as? [Any])?.isEmpty == true)
      let scratch = try Scratch()
      let path = try scratch.write(
        "m.csv", "image,question\nhttps://h/1.jpg,q\nhttps://h/2.jpg,q\nhttps://h/3.jpg,q\n")
      #expect(try db.trolley("enqueue", "answer", "--images", path).status == 0)
      #expect(try await db.work { _ in .failedPermanently(error: "no") } == 3)
      let listed = try #require(try db.trolley("workers", "--json").json() as? [[String: Any]])
      let worker = try #require(listed.first)
      #expect(listed.count == 1)
      #expect(worker["host"] as? String == "test-host")
      #expect(int(worker["pid"]) == 4242)
      #expect(int(worker["recently_finished"]) == 3)
      let rate = try #require((worker["jobs_per_minute"] as? NSNumber)?.doubleValue)
      let window = try #require((worker["window_seconds"] as? NSNumber)?.doubleValue)
      #expect(window > 0 && window <= 300)
      // Both are rounded to 3 decimals in the JSON; the window is at least a process start long.
      #expect(abs(rate - 3 * 60 / window) <= 0.03 * rate)
      let table = try db.trolley("workers")
      #expect(table.status == 0)
      #expect(table.stdout.contains("JOBS/MIN") && table.stdout.contains("test-host"))
    }
  }

  @Test func queuesPauseResumeAndPrune() async throws {
    try await OperatorDatabase.with { db in
      #expect(try db.trolley("queues", "pause", "bulk").status == 0)
      let listed = try #require(
        try db.trolley("queues", "list", "--json").json() as? [[String: Any]])
      #expect(listed.first?["name"] as? String == "bulk")
      #expect(listed.first?["paused"] as? Bool == true)
      let resumed = try db.trolley("queues", "resume", "bulk")
      #expect(resumed.stdout.contains("Resumed queue bulk"))

      let scratch = try Scratch()
      let path = try scratch.write("m.csv", "image,question\nhttps://h/1.jpg,q\n")
      #expect(try db.trolley("enqueue", "answer", "--images", path).status == 0)
      _ = try await db.work { _ in .succeeded(result: PostgresJSONB(text: #"{"answer":"a"}"#)) }
      let young = try #require(
        try db.trolley("prune", "--older-than", "1h", "--json").json() as? [String: Any])
      #expect(int(young["total"]) == 0)
      // Results are deleted only when asked for by name.
      let all = try #require(
        try db.trolley("prune", "--older-than", "0s", "--json").json() as? [String: Any])
      #expect(int(all["total"]) == 0)
      let results = try #require(
        try db.trolley("prune", "--older-than", "0s", "--state", "succeeded", "--json").json()
          as? [String: Any])
      #expect(int(results["total"]) == 1)
      let bad = try db.trolley("prune", "--older-than", "seven days")
      #expect(bad.status == 2)
      #expect(bad.stderr.contains("for example 30m, 12h, 7d"))
    }
  }

  @Test func errorsExplainThemselvesWithTheRightExitCodes() throws {
    let noDatabase = try TrolleyBinary.run(
      ["batches"], environment: ["TROLLEY_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"])
    #expect(noDatabase.status == 1)
    #expect(noDatabase.stderr.hasPrefix("error: "))
    let missing = try TrolleyBinary.run([
      "enqueue", "answer", "--images", "/no/such/dir", "--question", "q",
    ])
    #expect(missing.status == 1)
    #expect(missing.stderr.contains("no such file or folder"))
    let noQuestion = try TrolleyBinary.run(["enqueue", "answer", "--images", "/tmp"])
    #expect(noQuestion.status == 2)
    #expect(noQuestion.stderr.contains("--question is required"))
    let unknown = try TrolleyBinary.run(["jobs", "list", "--colour"])
    #expect(unknown.status == 2)
    let badState = try TrolleyBinary.run(["jobs", "list", "--state", "finished"])
    #expect(badState.status == 2)
    #expect(badState.stderr.contains("is not a job state"))
  }

  @Test(arguments: [
    ["enqueue", "answer"], ["enqueue", "caption"], ["batches"], ["batch", "show"], ["top"],
    ["jobs", "list"], ["jobs", "show"], ["jobs", "retry"], ["jobs", "cancel"], ["export"],
    ["queues", "list"], ["queues", "pause"], ["queues", "resume"], ["prune"], ["config"],
    ["workers"],
  ])
  func everyCommandHasHelpWithAnExample(command: [String]) throws {
    let run = try TrolleyBinary.run(command + ["--help"])
    #expect(run.status == 0)
    #expect(run.stdout.contains("Example"), "\(command)")
    #expect(run.stdout.contains("trolley " + command.joined(separator: " ")), "\(command)")
  }
}
