import Foundation
import TestFixtures
import Testing

/// `trolley model inspect` on the golden fixture folders, through the real binary.
@Suite struct ModelInspectCommandTests {
  static let fixtures: String = TestFixtures.trolTiny

  @Test(arguments: ["internlm2", "phi3"])
  func jsonReportIsConsistent(family: String) throws {
    let run = try TrolleyBinary.run([
      "model", "inspect", "\(Self.fixtures)/\(family)/model", "--json",
    ])
    #expect(run.status == 0, "\(run.stderr)")
    let report = try #require(try run.json() as? [String: Any])
    #expect(report["family"] as? String == family)
    let parts = try #require(report["parts"] as? [[String: Any]])
    let total = parts.compactMap { ($0["parameters"] as? NSNumber)?.intValue }.reduce(0, +)
    #expect((report["totalParameters"] as? NSNumber)?.intValue == total)
    #expect((report["findings"] as? [Any])?.isEmpty == true)
    let memory = try #require(report["memory"] as? [String: Any])
    #expect((memory["f32"] as? NSNumber)?.intValue == 4 * total)
  }

  @Test func textReportAndErrors() throws {
    let run = try TrolleyBinary.run(["model", "inspect", "\(Self.fixtures)/internlm2/model"])
    #expect(run.status == 0)
    #expect(run.stdout.contains("family   internlm2"))
    #expect(run.stdout.contains("PLoRA adapters"))
    #expect(run.stdout.contains("checks   config.json and model.safetensors agree"))

    let empty = NSTemporaryDirectory() + "trolley-inspect-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: empty) }
    let failed = try TrolleyBinary.run(["model", "inspect", empty])
    #expect(failed.status == 1)
    #expect(failed.stderr.contains("error: no config.json in \(empty)"), "\(failed.stderr)")
    #expect(failed.stderr.contains("trolley model synth"))

    let help = try TrolleyBinary.run(["model", "inspect", "--help"])
    #expect(help.status == 0)
    #expect(help.stdout.contains("Example"))
    #expect(help.stdout.contains("trolley model inspect"))
  }

  /// `model synth` output passes `model inspect` through the binary: the tiny shape whole, and
  /// TroL-3.8B's real widths with one layer (`--layers`).
  @Test(arguments: [["--like", "tiny"], ["--like", "3.8b", "--layers", "1"]])
  func synthesizedCheckpointPassesInspect(arguments: [String]) throws {
    let folder = NSTemporaryDirectory() + "trolley-synth-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let synth = try TrolleyBinary.run(["model", "synth"] + arguments + ["--out", folder])
    #expect(synth.status == 0, "\(synth.stderr)")
    let run = try TrolleyBinary.run(["model", "inspect", folder, "--json"])
    #expect(run.status == 0, "\(run.stderr)")
    let report = try #require(try run.json() as? [String: Any])
    #expect((report["findings"] as? [Any])?.isEmpty == true, "\(run.stdout)")
    #expect(report["family"] as? String == (arguments[1] == "tiny" ? "internlm2" : "phi3"))
    let decoder = try #require(report["decoder"] as? [String: Any])
    #expect(decoder["layers"] as? Int == (arguments.count > 2 ? 1 : 3))
  }
}
