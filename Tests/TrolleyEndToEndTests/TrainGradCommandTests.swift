import Foundation
import TestFixtures
import Testing
import TroL

/// `trolley train grad` through the real binary, compared with the official training goldens
/// (the image goes through the vision tower here, so the whole path is exercised).
@Suite struct TrainGradCommandTests {
  @Test(arguments: ["internlm2", "phi3"], ["step1", "step2"])
  func matchesGoldens(family: String, step: String) throws {
    let folder = TestFixtures.trolTiny + "/" + family
    let goldens = try SafeTensorsFile(path: folder + "/expected/train.safetensors")
    let json = try #require(
      try JSONSerialization.jsonObject(
        with: Data(contentsOf: URL(fileURLWithPath: folder + "/expected/train.json")))
        as? [String: Any])
    let sequence = try #require(json["sequence"] as? [String: Any])
    let answer = try #require(sequence["answer_text"] as? String)
    let question = try String(contentsOfFile: folder + "/question.txt", encoding: .utf8)
    let scratch = NSTemporaryDirectory() + "trolley-train-grad-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: scratch) }
    let out = scratch + "/grads.safetensors"
    var arguments = [
      "train", "grad", "--model", folder + "/model", "--image", folder + "/image.png", "--question",
      question, "--answer", answer, "--trainable", step, "--out", out, "--json",
    ]
    if step == "step2" {
      // The goldens' LoRA init, under the names `--lora-init` takes.
      let names = goldens.names.filter { $0.hasPrefix("init/lora/") }.sorted()
      let initPath = scratch + "/lora-init.safetensors"
      let writer = try SafeTensorsWriter(
        path: initPath,
        tensors: try names.map {
          .init(
            name: String($0.dropFirst("init/lora/".count)), dtype: .f32,
            shape: try goldens.info($0).shape)
        })
      for name in names { try writer.append(floats: try goldens.floats(name)) }
      try writer.finish()
      arguments += ["--lora-rank", "4", "--lora-alpha", "8", "--lora-init", initPath]
    }
    let run = try TrolleyBinary.run(arguments)
    #expect(run.status == 0, "\(run.stderr)")
    let printed = try #require(try run.json() as? [String: Any])
    let losses = try #require(json["loss"] as? [String: Any])
    let expected = try #require(losses[step] as? [String: Any])
    let loss = try #require(printed["loss"] as? Double)
    let initial = try #require(expected["initial"] as? Double)
    #expect(abs(loss - initial) <= 1e-5 * initial, "loss \(loss) vs \(initial)")
    let after = try #require(printed["loss_after_step"] as? Double)
    let expectedAfter = try #require(expected["after_adamw"] as? Double)
    #expect(
      abs(after - expectedAfter) <= 1e-5 * expectedAfter, "after \(after) vs \(expectedAfter)")

    let written = try SafeTensorsFile(path: out)
    let gradNames = written.names.filter { $0.hasPrefix("grad/") }
    // step1: 6 (InternLM2) / 8 (Phi-3) tensors + vision features; step2 adds A and B per site.
    #expect(gradNames.count == goldens.names.filter { $0.hasPrefix("grad/\(step)/") }.count)
    for name in gradNames {
      let suffix = String(name.dropFirst("grad/".count))
      let golden = try goldens.floats("grad/\(step)/\(suffix)")
      let mine = try written.floats(name)
      let bound = golden.map(abs).max()!
      let difference = zip(mine, golden).map { abs($0 - $1) }.max()!
      #expect(
        mine.count == golden.count && difference <= 1e-4 * bound,
        "\(name): \(difference) of \(bound)")
      guard suffix != "vision_features" else { continue }
      let updated = try written.floats("after/\(suffix)")
      let target = try goldens.floats("after/\(step)/\(suffix)")
      var worst: Float = 0
      for i in 0..<target.count where abs(golden[i]) >= 1e-3 * bound {
        worst = max(worst, abs(updated[i] - target[i]))
      }
      #expect(worst <= 1e-5, "after/\(suffix): \(worst)")
    }
  }

  @Test func badFlagsAreNamed() throws {
    let run = try TrolleyBinary.run([
      "train", "grad", "--model", "/nonexistent", "--question", "q", "--answer", "a", "--trainable",
      "step3", "--out", "/tmp/x.safetensors",
    ])
    #expect(run.status != 0)
    #expect(run.stderr.contains("--trainable must be one of step1, step2, all"), "\(run.stderr)")
  }
}
