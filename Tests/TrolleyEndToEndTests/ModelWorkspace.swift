import Foundation
import PostgresTesting
import Testing

/// A scratch folder with a random-weight tiny model at `model` and sample images in `images`,
/// made through the real `trolley model synth` and `trolley images synth`: the setup of the
/// worker tests that run the engine. `remove()` deletes it.
struct ModelWorkspace {
  let root: String
  var model: String { root + "/model" }
  var images: String { root + "/images" }

  /// - Parameters:
  ///   - name: Names the folder after the suite that made it.
  ///   - seed: The synthesized weights' seed.
  ///   - images: How many sample images (`sample-0000.png`...).
  init(_ name: String, seed: Int, images: Int) async throws {
    root = NSTemporaryDirectory() + "trolley-\(name)-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    let synth = try await TrolleyCommand.run([
      "model", "synth", "--like", "tiny", "--out", root + "/model", "--seed", String(seed),
    ])
    try #require(synth.exitCode == 0, "model synth failed: \(synth.standardError)")
    let sample = try await TrolleyCommand.run([
      "images", "synth", "--out", root + "/images", "--count", String(images),
    ])
    try #require(sample.exitCode == 0, "images synth failed: \(sample.standardError)")
  }

  func remove() { try? FileManager.default.removeItem(atPath: root) }
}
