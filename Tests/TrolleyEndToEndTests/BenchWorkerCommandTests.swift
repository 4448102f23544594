import Foundation
import PostgresTesting
import Testing

/// `trolley bench worker` on a tiny random-weight model: every batch size answers the same images
/// the same way, and the report carries each size's figures.
@Suite struct BenchWorkerCommandTests {
  @Test func everyBatchSizeAnswersTheSameImagesTheSameWay() async throws {
    let root = NSTemporaryDirectory() + "trolley-bench-worker-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: root) }
    let synth = try await TrolleyCommand.run([
      "model", "synth", "--like", "tiny", "--out", root, "--seed", "3",
    ])
    try #require(synth.exitCode == 0, "model synth failed: \(synth.standardError)")
    let bench = try await TrolleyCommand.run([
      "bench", "worker", "--model", root, "--images", "6", "--batch-sizes", "1,4,6",
      "--max-new-tokens", "8", "--json",
    ])
    try #require(bench.exitCode == 0, "bench worker failed: \(bench.standardError)")
    let report = try #require(
      try JSONSerialization.jsonObject(with: Data(bench.standardOutput.utf8)) as? [String: Any])
    let runs = try #require(report["runs"] as? [[String: Any]])
    #expect(runs.map { $0["batch_size"] as? Int } == [1, 4, 6])
    let tokens = runs.compactMap { $0["generated_tokens"] as? Int }
    #expect(tokens.count == 3 && Set(tokens).count == 1, "\(tokens)")
    #expect(tokens.first.map { $0 >= 6 && $0 <= 48 } == true, "1 to 8 tokens per image")
    for run in runs {
      #expect(run["images"] as? Int == 6)
      #expect(run["same_answers_as_first"] as? Bool == true, "\(run)")
      #expect(((run["images_per_hour"] as? NSNumber)?.doubleValue ?? 0) > 0)
    }
    #expect(report["max_new_tokens"] as? Int == 8)

    let refused = try await TrolleyCommand.run([
      "bench", "worker", "--model", root, "--batch-sizes", "0",
    ])
    #expect(refused.exitCode == 2)
    #expect(refused.standardError.contains("--batch-sizes"))
  }
}
