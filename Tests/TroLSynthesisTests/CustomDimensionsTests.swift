import Foundation
import Tensor
import TestFixtures
import Testing
import TroL

@testable import TroLSynthesis

/// `model synth --like tiny` with custom sizes: the checkpoint a from-scratch training run starts
/// from (the demo model's recipe shape, at smaller widths so the test stays cheap).
@Suite struct CustomDimensionsTests {
  func temporaryDirectory(_ name: String) -> String {
    NSTemporaryDirectory() + "trolley-synth-\(name)-\(UUID().uuidString)"
  }

  @Test func customSizesLoadWithTheFixtureTokenizerAndScratchInit() throws {
    let directory = temporaryDirectory("custom")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let fixture = TestFixtures.trolTinyURL.appendingPathComponent("internlm2/model").path
    try ModelSynthesizer.write(
      custom: .init(
        hidden: 32, layers: 2, heads: 4, kvHeads: 2, intermediate: 48, imageSize: 32,
        patchSize: 8, visionHidden: 16, visionLayers: 1, visionHeads: 2, visionIntermediate: 32),
      to: directory, seed: 5, tokenizerDirectory: fixture, initialization: .scratch)

    let config = try ModelConfig(
      json: Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/config.json"))),
      source: "test")
    #expect(config.decoder.hiddenSize == 32)
    #expect(config.decoder.layers == 2)
    #expect(config.decoder.vocabSize == 520)  // from the fixture's added_tokens.json
    #expect(config.summary.vision.patchSize == 8)
    #expect(config.summary.imageSize == 32)

    // The fixture's tokenizer was copied, byte for byte.
    let copied = try Data(contentsOf: URL(fileURLWithPath: directory + "/tokenizer.model"))
    let original = try Data(contentsOf: URL(fileURLWithPath: fixture + "/tokenizer.model"))
    #expect(copied == original)

    // Scratch init: PLoRA's B is zero (frozen in training, so no correction at the start), the
    // LM head has std 1/√D (uniform: |w| ≤ √3/√32 ≈ 0.31, where the demo init reaches 0.77),
    // PLoRA's A is not zero.
    let weights = try SafeTensorsFile(path: directory + "/model.safetensors")
    #expect(
      try weights.floats("model.layers.1.feed_forward.w2.lora_B.weight").allSatisfy { $0 == 0 })
    #expect(
      try weights.floats("model.layers.1.feed_forward.w2.lora_A.weight").contains { $0 != 0 })
    let head = try weights.floats("output.weight")
    #expect(head.map(abs).max()! < 0.32)
    #expect(head.map(abs).max()! > 0.2)
    #expect(
      try weights.floats("vit.vision_tower.vision_model.embeddings.position_embedding.weight")
        .count == (4 * 4 + 1) * 16)

    // It loads and answers: 16 image tokens (32 px / patch 8 = 4 x 4).
    let engine = try TroLEngine.load(modelDirectory: directory, weights: .f16)
    let result = try answerFixtureImage(engine, maxNewTokens: 2)
    #expect(result.promptTokenIDs.filter { $0 == 520 }.count == 16)
  }

  @Test func aTokenizerFolderWithoutItsFilesIsRefusedByName() throws {
    let empty = temporaryDirectory("empty")
    try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: empty) }
    #expect {
      try ModelSynthesizer.write(
        custom: .init(hidden: 32), to: temporaryDirectory("never"), seed: 1,
        tokenizerDirectory: empty)
    } throws: { error in
      "\(error)".contains("tokenizer.model")
    }
  }

  @Test func anImageSizeThePatchDoesNotDivideIsRefused() throws {
    let directory = temporaryDirectory("bad")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    #expect(throws: TroLError.self) {
      try ModelSynthesizer.write(
        custom: .init(imageSize: 30, patchSize: 8), to: directory, seed: 1)
    }
  }
}
