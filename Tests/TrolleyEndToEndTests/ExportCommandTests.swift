import Foundation
import JobQueue
import Postgres
import TestFixtures
import Testing
import TrolleyCLIKit
import TrolleyJobContracts

/// `trolley export`: every job once, fields intact, in JSONL and CSV.
struct ExportCommandTests {
  static let questions = [
    "Plain?", "Commas, \"quotes\", and\nnew lines?", "日本語の質問？ 🐈‍⬛", "crlf\r\ninside", " padded ",
    "back\\slash and tab\t", "",
  ]

  @Test func exportRoundTripsEveryJobOnceInJSONLAndCSV() async throws {
    try await OperatorDatabase.with { db in
      let scratch = try Scratch()
      var manifest = ""
      for (index, question) in Self.questions.enumerated() where !question.isEmpty {
        manifest +=
          #"{"image":"https://h/\#(index).jpg","question":\#(JSONWriter.quoted(question)),"id":"r\#(index)","metadata":{"n":\#(index)}}"#
          + "\n"
      }
      manifest += #"{"image":"https://h/fail.jpg","question":"will fail, badly","id":"bad"}"# + "\n"
      let path = try scratch.write("q.jsonl", manifest)
      let enqueue = try db.trolley(
        "enqueue", "answer", "--images", path, "--batch", "export-test", "--json")
      #expect(enqueue.status == 0, "\(enqueue.stderr)")
      let expected = Self.questions.filter { !$0.isEmpty }.count + 1
      #expect(int((try enqueue.json() as? [String: Any])?["added"]) == expected)

      // A worker's results: the answer echoes the question with extra awkward characters.
      let worked = try await db.work { job in
        let payload = (try? JSONParser.parse(job.payload.text)) ?? .null
        if payload["id"] == .string("bad") {
          return .failedPermanently(error: "image is corrupt, \"truncated\"\nat byte 12")
        }
        let answer = "Answer, \"\(payload["question"]?.stringValue ?? "")\"\n— ok ✓"
        let result =
          #"{"answer":\#(JSONWriter.quoted(answer)),"model":"trol-tiny","timings":{"total_ms":12.5}}"#
        return .succeeded(result: PostgresJSONB(text: result))
      }
      #expect(worked == expected)

      for format in ["jsonl", "csv"] {
        let out = scratch.path + "/out." + format
        let run = try db.trolley("export", "--batch", "export-test", "--out", out)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("Exported \(expected) jobs"))
        let records = try Self.read(out, format: format)
        #expect(records.count == expected)
        #expect(Set(records.map { $0["job_id"] ?? "" }).count == expected, "every job exactly once")
        for (index, question) in Self.questions.enumerated() where !question.isEmpty {
          let record = try #require(
            records.first { $0["input_id"] == "r\(index)" }, "\(format) r\(index)")
          #expect(record["question"] == question, "\(format) question \(index)")
          #expect(
            record["answer"] == "Answer, \"\(question)\"\n— ok ✓", "\(format) answer \(index)")
          #expect(record["image"] == "https://h/\(index).jpg")
          #expect(record["state"] == "succeeded")
          #expect(record["model"] == "trol-tiny")
          #expect(record["attempts"] == "1")
          #expect(record["error"] == "")
          #expect(record["timings"] == #"{"total_ms":12.5}"#)
          #expect(record["metadata"] == #"{"n":\#(index)}"#)
        }
        let bad = try #require(records.first { $0["input_id"] == "bad" })
        #expect(bad["state"] == "dead")
        #expect(bad["error"] == "image is corrupt, \"truncated\"\nat byte 12")
        #expect(bad["answer"] == "")
      }

      let dead = try db.trolley("export", "--batch", "export-test", "--state", "dead")
      #expect(dead.status == 0)
      #expect(dead.stdout.split(separator: "\n").count == 1)
      #expect(
        try FileManager.default.contentsOfDirectory(atPath: scratch.path).sorted() == [
          "out.csv", "out.jsonl", "q.jsonl",
        ])
    }
  }

  /// Reads an export back into string fields (JSON values other than strings as compact JSON).
  static func read(_ path: String, format: String) throws -> [[String: String]] {
    var records: [[String: String]] = []
    if format == "jsonl" {
      let lines = try LineReader(path: path)
      while let line = try lines.nextLine() {
        guard
          case .object(let members) = try JSONParser.parse(String(decoding: line, as: UTF8.self))
        else {
          Issue.record("not an object")
          continue
        }
        var record: [String: String] = [:]
        for member in members { record[member.key] = member.value.plainText }
        records.append(record)
      }
      return records
    }
    let reader = try CSVRecordReader(path: path)
    guard case .fields(_, let header) = try reader.next() else { return [] }
    while let next = try reader.next() {
      guard case .fields(_, let fields) = next else {
        Issue.record("malformed CSV record \(next)")
        continue
      }
      records.append(Dictionary(uniqueKeysWithValues: zip(header, fields)))
    }
    return records
  }

  @Test func exportErrorsSayWhatToDo() async throws {
    try await OperatorDatabase.with { db in
      let missing = try db.trolley("export", "--batch", "nope")
      #expect(missing.status == 1)
      #expect(missing.stderr.contains("trolley batches"))
      let format = try db.trolley("export", "--batch", "1", "--format", "xml")
      #expect(format.status == 2)
      #expect(format.stderr.contains("writes jsonl or csv"))
    }
  }

  /// An extension export does not write is refused (exit 2, naming the formats and how to get
  /// Parquet), and no file appears: `--out x.parquet` once wrote JSON Lines and exited 0.
  @Test func unknownOutputExtensionsAreRefused() async throws {
    try await OperatorDatabase.with { db in
      let scratch = try Scratch()
      let enqueue = try db.trolley(
        "enqueue", "answer", "--images",
        try scratch.write("m.jsonl", #"{"image":"/x/a.jpg"}"# + "\n"), "--question", "Q?",
        "--batch", "formats", "--no-check-files")
      #expect(enqueue.status == 0, "\(enqueue.stderr)")
      for name in ["x.parquet", "x.json", "x.xlsx", "x.PARQUET"] {
        let run = try db.trolley("export", "--batch", "formats", "--out", scratch.path + "/" + name)
        #expect(run.status == 2, "\(name): \(run.stderr)")
        #expect(run.stderr.contains("jsonl or csv"), "\(name): \(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/" + name))
      }
      let parquet = try db.trolley("export", "--batch", "formats", "--format", "parquet")
      #expect(parquet.status == 2)
      #expect(parquet.stderr.contains("duckdb"), "\(parquet.stderr)")
      for name in ["x.ndjson", "x.CSV", "noextension"] {
        let run = try db.trolley("export", "--batch", "formats", "--out", scratch.path + "/" + name)
        #expect(run.status == 0, "\(name): \(run.stderr)")
      }
      let csv = try String(contentsOfFile: scratch.path + "/x.CSV", encoding: .utf8)
      #expect(csv.hasPrefix("job_id,"))
    }
  }
}
