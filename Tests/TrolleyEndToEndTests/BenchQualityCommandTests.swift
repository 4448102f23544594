import Foundation
import PostgresTesting
import TestFixtures
import Testing

/// `trolley bench quality` on the tiny InternLM2 fixture: exact mode compared with itself has no
/// error and agrees on every token; int8 compute moves the logits by a finite, small amount; the
/// easy-vqa scoring reads a questions file and scores each mode; a malformed file is refused.
@Suite struct BenchQualityCommandTests {
  static let family = TestFixtures.trolTiny + "/internlm2"

  @Test func exactModeMatchesItselfAndLossyModesStayBounded() async throws {
    let folder = try TemporaryFolder(prefix: "trolley-bench-quality")
    // Two easy-vqa style questions on the fixture's image (images/<n>.png beside the file).
    let images = folder.path + "/images"
    try FileManager.default.createDirectory(atPath: images, withIntermediateDirectories: true)
    try FileManager.default.copyItem(
      atPath: Self.family + "/image.png", toPath: images + "/0.png")
    let questions = try folder.write(
      "questions.json",
      #"[["what is the color of the shape?","red",0],["is there a circle?","no",0]]"#)
    let run = try await TrolleyCommand.run([
      "bench", "quality", "--model", Self.family + "/model", "--image", Self.family + "/image.png",
      "--traversal", "all,question", "--compute", "f32,int8", "--new-tokens", "8",
      "--easy-vqa-questions", questions, "--easy-vqa-max-new-tokens", "4", "--json",
    ])
    try #require(run.exitCode == 0, "bench quality failed: \(run.standardError)")
    let report = try #require(
      try JSONSerialization.jsonObject(with: Data(run.standardOutput.utf8)) as? [String: Any])
    let rows = try #require(report["rows"] as? [[String: Any]])
    func row(_ traversal: String, _ compute: String) throws -> [String: Any] {
      try #require(
        rows.first {
          $0["traversal"] as? String == traversal && $0["compute"] as? String == compute
        }, "no \(traversal)/\(compute) row in \(rows)")
    }
    func comparison(_ row: [String: Any], _ key: String) throws -> (Double, Double, Double, Int) {
      let c = try #require(row[key] as? [String: Any])
      return (
        try #require((c["max_relative_error"] as? NSNumber)?.doubleValue),
        try #require((c["mean_relative_error"] as? NSNumber)?.doubleValue),
        try #require((c["agreement"] as? NSNumber)?.doubleValue),
        try #require(c["compared_tokens"] as? Int)
      )
    }
    #expect(rows.count == 4)
    #expect(report["new_tokens"] as? Int == 8)
    #expect(((report["exact_max_abs_logit"] as? NSNumber)?.doubleValue ?? 0) > 0)

    // Exact mode against itself, and exact compute under question traversal against itself.
    for (traversal, key) in [("all", "vs_exact"), ("question", "vs_exact_same_traversal")] {
      let (maxError, meanError, agreement, compared) = try comparison(
        try row(traversal, "f32"), key)
      #expect(maxError == 0 && meanError == 0, "\(traversal)/f32 \(key)")
      #expect(agreement == 1 && compared == 8, "\(traversal)/f32 \(key)")
    }
    // Question traversal is a different computation from all: its logits move.
    #expect(try comparison(try row("question", "f32"), "vs_exact").0 > 0)
    // int8 products (q8 weights, activations quantized per row) are lossy but close.
    for traversal in ["all", "question"] {
      let (maxError, meanError, agreement, compared) = try comparison(
        try row(traversal, "int8"), "vs_exact_same_traversal")
      #expect(maxError.isFinite && maxError > 0 && maxError < 0.25, "\(traversal)/int8 \(maxError)")
      #expect(meanError <= maxError)
      #expect(compared == 8 && agreement >= 0 && agreement <= 1)
      #expect(try row(traversal, "int8")["weights"] as? String == "q8")
    }
    // Every mode was scored on both questions; exact mode's answers are its own.
    for row in rows {
      let score = try #require(row["easy_vqa"] as? [String: Any], "\(row)")
      #expect(score["questions"] as? Int == 2)
      let right = try #require(score["right"] as? Int)
      #expect((0...2).contains(right))
    }
    #expect(
      (try row("all", "f32")["easy_vqa"] as? [String: Any])?["same_as_exact"] as? Int == 2)

    // A questions file that is not [question, answer, image] rows is refused by name.
    let bad = try folder.write("bad.json", #"{"question": "what?"}"#)
    let refused = try await TrolleyCommand.run([
      "bench", "quality", "--model", Self.family + "/model", "--compute", "f32",
      "--traversal", "all", "--new-tokens", "1", "--easy-vqa-questions", bad,
    ])
    #expect(refused.exitCode != 0)
    #expect(refused.standardError.contains("bad.json"), "\(refused.standardError)")
    let unknown = try await TrolleyCommand.run([
      "bench", "quality", "--model", Self.family + "/model", "--compute", "f64",
    ])
    #expect(unknown.exitCode == 2)
    #expect(unknown.standardError.contains("--compute"))
  }
}
