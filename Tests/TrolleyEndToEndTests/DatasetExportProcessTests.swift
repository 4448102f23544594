import Digest
import Foundation
import JobQueue
import Postgres
import PostgresTesting
import TestFixtures
import Testing
import TroL
import TroLSynthesis
import TrolleyWorkers

/// Curation outputs through the real binary and real workers (design/curation.md, "Outputs"):
/// a VQA manifest ingested and exported as LLaVA JSON that training reads, JSONL and CSV; caption
/// and question fan-out through the tiny fixture model, written back into the items; WebDataset
/// shards that wait for those jobs, read back by the `webdataset` package, byte-identical when
/// exported again.
@Suite(.serialized) struct DatasetExportProcessTests {
  static let model = TestFixtures.trolTiny + "/internlm2/model"

  /// A scratch folder with `count` distinct 240x240 PNGs named img0.png, img1.png...
  static func images(_ count: Int) throws -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "dataset-export-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    for index in 0..<count {
      let png = PNGEncoder.encode(
        DuplicateSet.original(seed: UInt64(100 + index), width: 240, height: 240))
      try Data(png).write(to: folder.appendingPathComponent("img\(index).png"))
    }
    return folder
  }

  /// Runs a worker until `condition` holds, then stops it.
  static func work(
    _ url: String, _ arguments: [String], until what: String, _ condition: () async throws -> Bool
  ) async throws {
    let worker = try WorkerProcess(
      databaseURL: url, arguments: arguments + ["--poll-interval", "0.2"])
    defer { worker.stop() }
    try await eventually(what, condition)
  }

  static func unfinished(_ client: PostgresClient, kind: String) async throws -> Int64 {
    try await client.query(
      "SELECT count(*)::bigint FROM jobs WHERE kind = $1 AND state <> 'succeeded'", [kind]
    ).single().decode(0, as: Int64.self)
  }

  @Test func vqaManifestExportsToLLaVAThatTrainingReadsAndToJSONLAndCSV() async throws {
    let folder = try Self.images(3)
    defer { try? FileManager.default.removeItem(at: folder) }
    // Two questions per image, as easy-vqa's rows; an answer with a comma and quotes.
    var csv = "image,question,answer,split\n"
    for index in 0..<3 {
      csv += "img\(index).png,What shape is in the image?,shape \(index),train\n"
      csv += "img\(index).png,Is it big?,\"yes, \"\"very\"\" big\",train\n"
    }
    let manifest = folder.appendingPathComponent("train.csv").path
    try csv.write(toFile: manifest, atomically: true, encoding: .utf8)

    try await OperatorDatabase.with { db in
      let url = db.environment["TROLLEY_DATABASE_URL"] ?? ""
      #expect(try db.trolley("dataset", "create", "vqa").status == 0)
      let ingest = try db.trolley("dataset", "ingest", "vqa", "--images", manifest, "--json")
      #expect(ingest.status == 0, "\(ingest.stderr)")
      let plan = try #require(try ingest.json() as? [String: Any])
      #expect(int(plan["added"]) == 3)
      try await Self.work(
        url, ["--kinds", "curate.ingest", "--image-root", folder.path], until: "ingest ends"
      ) { try await Self.unfinished(db.database.client, kind: "curate.ingest") == 0 }

      let out = folder.appendingPathComponent("llava").path
      let export = try db.trolley(
        "dataset", "export", "vqa", "--format", "llava", "--out", out, "--json")
      #expect(export.status == 0, "\(export.stderr)")
      let report = try #require(try export.json() as? [String: Any])
      #expect(int(report["records"]) == 6 && int(report["items"]) == 3)

      // The training side's reader takes the export as it is.
      let examples = try LLaVAData.examples(path: out + "/llava.json")
      #expect(examples.count == 6)
      #expect(examples.map(\.question).filter { $0 == "What shape is in the image?" }.count == 3)
      #expect(
        Set(examples.map(\.answer)) == ["shape 0", "shape 1", "shape 2", #"yes, "very" big"#])
      for example in examples {
        let image = try #require(example.image)
        let copied = try Data(contentsOf: URL(fileURLWithPath: image))
        let index = examples.firstIndex(of: example).map { $0 / 2 } ?? -1
        let original = try Data(contentsOf: folder.appendingPathComponent("img\(index).png"))
        #expect(copied == original, "\(image) is not img\(index).png")
      }
      // LLaVA's own record layout: id, relative image path, human turn with <image>, gpt turn.
      let records = try #require(
        try JSONSerialization.jsonObject(
          with: Data(contentsOf: URL(fileURLWithPath: out + "/llava.json"))) as? [[String: Any]])
      let first = try #require(records.first)
      #expect((first["image"] as? String)?.hasPrefix("images/") == true)
      #expect((first["id"] as? String)?.hasSuffix("-0") == true)
      let turns = try #require(first["conversations"] as? [[String: String]])
      #expect(turns.map { $0["from"] } == ["human", "gpt"])
      #expect(turns[0]["value"] == "<image>\nWhat shape is in the image?")

      let jsonl = folder.appendingPathComponent("vqa.jsonl").path
      #expect(
        try db.trolley("dataset", "export", "vqa", "--format", "jsonl", "--out", jsonl).status
          == 0)
      let rows = try String(contentsOfFile: jsonl, encoding: .utf8).split(separator: "\n").map {
        try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
      }
      #expect(rows.count == 3)
      #expect((rows[0]["answers"] as? [[String: String]])?.count == 2)
      #expect((rows[0]["metadata"] as? [String: String])?["split"] == "train")
      #expect((rows[0]["phash"] as? String)?.count == 16)

      let csvOut = folder.appendingPathComponent("vqa.csv").path
      #expect(
        try db.trolley("dataset", "export", "vqa", "--format", "csv", "--out", csvOut).status
          == 0)
      let table = try String(contentsOfFile: csvOut, encoding: .utf8)
      #expect(table.hasPrefix("id,key,source,sha256,width,height,format,bytes,"))
      #expect(table.components(separatedBy: "\r\n").filter { !$0.isEmpty }.count == 4)
    }
  }

  /// Member names of a ustar archive, in order (the test's own reader, for when the webdataset
  /// package is not installed).
  static func tarMembers(_ path: String) throws -> [String] {
    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    var names: [String] = []
    var offset = 0
    while offset + 512 <= bytes.count, bytes[offset] != 0 {
      let header = bytes[offset..<offset + 512]
      let name = String(decoding: header.prefix(100).prefix { $0 != 0 }, as: UTF8.self)
      let sizeText = String(decoding: header.dropFirst(124).prefix(11), as: UTF8.self)
      let size = try #require(Int(sizeText, radix: 8))
      #expect(String(decoding: header.dropFirst(257).prefix(5), as: UTF8.self) == "ustar")
      names.append(name)
      offset += 512 + (size + 511) / 512 * 512
    }
    #expect(bytes.count % 10_240 == 0)
    return names
  }

  static func sha256(_ path: String) throws -> String {
    try SHA256.hex(ofFile: path)
  }

  @Test func captionsAndAnswersFanOutThenShardsReadByWebDataset() async throws {
    let folder = try Self.images(5)
    defer { try? FileManager.default.removeItem(at: folder) }
    try await OperatorDatabase.with { db in
      let url = db.environment["TROLLEY_DATABASE_URL"] ?? ""
      let client = db.database.client
      #expect(try db.trolley("dataset", "create", "caps").status == 0)
      #expect(try db.trolley("dataset", "ingest", "caps", "--images", folder.path).status == 0)
      // Fan-out before ingest has finished is refused: which items are kept is not known.
      let early = try db.trolley("dataset", "caption", "caps")
      #expect(early.status != 0 && early.stderr.contains("still open"))
      try await Self.work(
        url, ["--kinds", "curate.ingest", "--image-root", folder.path], until: "ingest ends"
      ) { try await Self.unfinished(client, kind: "curate.ingest") == 0 }

      let caption = try db.trolley("dataset", "caption", "caps", "--json")
      #expect(caption.status == 0, "\(caption.stderr)")
      #expect(int((try caption.json() as? [String: Any])?["captions"]) == 5)
      let ask = try db.trolley(
        "dataset", "caption", "caps", "--question", "What is in the picture?", "--json")
      let asked = try #require(try ask.json() as? [String: Any])
      #expect(int(asked["answers"]) == 5 && int(asked["captions"]) == 0)
      // The shards wait for those ten jobs.
      let shards = folder.appendingPathComponent("shards").path
      let export = try db.trolley(
        "dataset", "export", "caps", "--format", "webdataset", "--out", shards, "--shard-size",
        "2", "--json")
      #expect(export.status == 0, "\(export.stderr)")
      let plan = try #require(try export.json() as? [String: Any])
      #expect(int(plan["shards"]) == 3 && int(plan["waits_for"]) == 10)

      try await Self.work(
        url,
        [
          "--model", Self.model, "--max-new-tokens", "6", "--image-root", folder.path,
          "--kinds", "trol.caption,trol.answer,curate.shard",
        ], until: "the shards are written"
      ) { try await Self.unfinished(client, kind: "curate.shard") == 0 }

      // Every kept item holds its job's text.
      let written = try await client.query(
        """
        SELECT i.caption, j.result->>'caption' FROM dataset_item i
        JOIN jobs j ON j.kind = 'trol.caption' AND (j.payload->>'dataset_item')::bigint = i.id
        """
      ).map { try $0.decode((String?, String?).self) }
      #expect(written.count == 5 && written.allSatisfy { $0.0 != nil && $0.0 == $0.1 })
      let answered = try await client.query(
        """
        SELECT i.answers->0->>'answer', j.result->>'answer' FROM dataset_item i
        JOIN jobs j ON j.kind = 'trol.answer' AND (j.payload->>'dataset_item')::bigint = i.id
        """
      ).map { try $0.decode((String?, String?).self) }
      #expect(answered.count == 5 && answered.allSatisfy { $0.0 != nil && $0.0 == $0.1 })
      // Nothing is missing any more, so a second fan-out adds no job.
      let again = try #require(
        try db.trolley("dataset", "caption", "caps", "--json").json() as? [String: Any])
      #expect(int(again["captions"]) == 0)

      let sizes = try #require(
        try JSONSerialization.jsonObject(
          with: Data(contentsOf: URL(fileURLWithPath: shards + "/sizes.json"))) as? [String: Int])
      #expect(sizes == ["caps-000000.tar": 2, "caps-000001.tar": 2, "caps-000002.tar": 1])
      var keys: [String] = []
      for name in sizes.keys.sorted() {
        let members = try Self.tarMembers(shards + "/" + name)
        // webdataset's TarWriter order: per key, extensions sorted.
        #expect(members.count == 3 * (sizes[name] ?? 0))
        for triple in stride(from: 0, to: members.count, by: 3) {
          let key = String(members[triple].prefix(12))
          #expect(
            Array(members[triple..<triple + 3]) == [key + ".json", key + ".png", key + ".txt"])
          keys.append(key)
        }
      }
      #expect(keys == keys.sorted() && Set(keys).count == 5)

      let expected = folder.appendingPathComponent("expected.jsonl").path
      #expect(
        try db.trolley("dataset", "export", "caps", "--format", "jsonl", "--out", expected)
          .status == 0)
      if let python = ProcessInfo.processInfo.environment["TROLLEY_WEBDATASET_PYTHON"] {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
          .deletingLastPathComponent().appendingPathComponent(
            "CurationTests/Oracle/check_webdataset.py"
          ).path
        let check = Process()
        check.executableURL = URL(fileURLWithPath: python)
        check.arguments = [script, shards, expected]
        let output = Pipe()
        check.standardError = output
        try check.run()
        check.waitUntilExit()
        let message = String(
          decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(check.terminationStatus == 0, "webdataset check: \(message)")
      }

      // Exporting again (and into a second folder) writes the same bytes.
      let before = try sizes.keys.sorted().map { try Self.sha256(shards + "/" + $0) }
      let second = folder.appendingPathComponent("shards-again").path
      for target in [shards, second] {
        #expect(
          try db.trolley(
            "dataset", "export", "caps", "--format", "webdataset", "--out", target,
            "--shard-size", "2"
          ).status == 0)
      }
      try await Self.work(
        url, ["--kinds", "curate.shard", "--image-root", folder.path],
        until: "the re-export is written"
      ) { try await Self.unfinished(client, kind: "curate.shard") == 0 }
      for target in [shards, second] {
        #expect(try sizes.keys.sorted().map { try Self.sha256(target + "/" + $0) } == before)
      }
    }
  }
}
