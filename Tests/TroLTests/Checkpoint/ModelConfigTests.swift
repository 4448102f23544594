import Foundation
import Testing
import TroL
import TrolleyBasics

@Suite struct ModelConfigTests {
  /// What a fixture's config.json says in the fields every family has.
  struct FixtureFacts: Sendable, CustomTestStringConvertible {
    var folder: String
    var family: Family
    var decoderSizes: [Int]
    var imageTokensPerTile: Int
    var maxTilesPerImage: Int
    var testDescription: String { folder }
  }

  @Test(arguments: [
    FixtureFacts(
      folder: "internlm2", family: .internLM2, decoderSizes: [64, 4, 2, 16, 3, 160, 520],
      imageTokensPerTile: 16, maxTilesPerImage: 1),
    FixtureFacts(
      folder: "phi3", family: .phi3, decoderSizes: [96, 4, 4, 24, 3, 160, 512],
      imageTokensPerTile: 4, maxTilesPerImage: 7),
  ])
  func fixtureSharedFields(_ facts: FixtureFacts) throws {
    let config = try ModelConfig.load(path: CheckpointFixtures.model(facts.folder) + "/config.json")
    #expect(config.family == facts.family)
    #expect(config.decoder.sizes == facts.decoderSizes)
    #expect(config.vision.sizes == [32, 2, 2, 64, 14, 56])
    #expect(config.imageSize == 56)
    #expect(config.imageTokensPerTile == facts.imageTokensPerTile)
    #expect(config.maxTilesPerImage == facts.maxTilesPerImage)
    #expect(config.eosTokenId == 2)
  }

  @Test func internLM2Fixture() throws {
    let config = try ModelConfig.load(path: CheckpointFixtures.model("internlm2") + "/config.json")
    let d = config.decoder
    #expect(d.ropeTheta == 1_000_000)
    #expect(d.rmsNormEps == 1e-5)
    #expect(config.vision.hiddenAct == "quick_gelu")
    #expect(config.bosTokenId == 1)
    #expect(config.padTokenId == 2)
    let full = try #require(config.internLM2)
    #expect(full.ropeScaling?.type == "dynamic")
    #expect(full.ropeScaling?.factor == 2)
    #expect(full.groupSize == 2)
  }

  /// A model Trolley trained without traversal says so (`trol_traversal: false`); it then runs
  /// without traversal unless told otherwise. The released checkpoints have no such key.
  @Test(arguments: [(false as Bool?, TraversalMode.off), (true, .all), (nil, .all)])
  func trolTraversalSetsTheDefaultTraversal(flag: Bool?, expected: TraversalMode) throws {
    let config = try ModelConfig(
      json: try mutated("internlm2") { $0["trol_traversal"] = flag }, source: "test")
    #expect(config.trainedWithTraversal == (flag ?? true))
    #expect(config.defaultTraversal == expected)
  }

  @Test func internLM2WithoutVisionConfigUsesCLIPLarge() throws {
    let json = try mutated("internlm2") {
      $0["vision_config"] = nil
      $0["img_size"] = 490
    }
    let config = try ModelConfig(json: json, source: "test")
    let v = config.vision
    #expect(
      v.sizes == [1024, 24, 16, 4096, 14, 490])
    #expect(v.layerNormEps == 1e-5)
    #expect(config.imageTokensPerTile == 1225)
  }

  @Test func phi3Fixture() throws {
    let config = try ModelConfig.load(path: CheckpointFixtures.model("phi3") + "/config.json")
    #expect(config.vision.layerNormEps == 1e-6)
    let full = try #require(config.phi3)
    #expect(full.template == "phi3-chat")
    #expect(full.shuffledWidth == 128)
    let rope = try #require(full.llm.ropeScaling)
    #expect(rope.type == "su")
    #expect(rope.shortFactor.count == 12)
    #expect(rope.longFactor.count == 12)
    #expect(rope.shortFactor.first == 1.000964)
    #expect(rope.longFactor.last == 41.07534)
    #expect(full.llm.originalMaxPositionEmbeddings == 4096)
    #expect(abs(full.llm.ropeMagnitudeScale - 1.1902380714) < 1e-9)
  }

  private func mutated(_ family: String, _ change: (inout [String: Any]) -> Void) throws -> [UInt8]
  {
    var json = try CheckpointFixtures.json(CheckpointFixtures.model(family) + "/config.json")
    change(&json)
    return [UInt8](try JSONSerialization.data(withJSONObject: json))
  }

  @Test func invalidValuesNameTheKey() throws {
    let cases: [(String, String, (inout [String: Any]) -> Void)] = [
      ("internlm2", "num_attention_heads", { $0["num_attention_heads"] = 5 }),
      ("internlm2", "hidden_size", { $0["hidden_size"] = -64 }),
      ("internlm2", "hidden_size", { $0["hidden_size"] = nil }),
      ("internlm2", "vocab_size", { $0["vocab_size"] = "many" }),
      (
        "internlm2", "vision_config.num_attention_heads",
        {
          var vision = $0["vision_config"] as? [String: Any] ?? [:]
          vision["num_attention_heads"] = 3
          $0["vision_config"] = vision
        }
      ),
      ("internlm2", "model_type", { $0["model_type"] = "llama" }),
      (
        "internlm2", "patch_size",
        {
          var vision = $0["vision_config"] as? [String: Any] ?? [:]
          vision["patch_size"] = 0
          $0["vision_config"] = vision
        }
      ),
      ("internlm2", "img_size", { $0["img_size"] = 50 }),
      (
        "phi3", "llm_config.rope_scaling.short_factor",
        {
          var llm = $0["llm_config"] as? [String: Any] ?? [:]
          var rope = llm["rope_scaling"] as? [String: Any] ?? [:]
          rope["short_factor"] = [1.0, 2.0]
          llm["rope_scaling"] = rope
          $0["llm_config"] = llm
        }
      ),
      (
        "phi3", "llm_config.num_key_value_heads",
        {
          var llm = $0["llm_config"] as? [String: Any] ?? [:]
          llm["num_key_value_heads"] = 3
          $0["llm_config"] = llm
        }
      ),
      ("phi3", "downsample_ratio", { $0["downsample_ratio"] = 0.3 }),
    ]
    for (family, key, change) in cases {
      let bytes = try mutated(family, change)
      let error = #expect(throws: TroLError.self) {
        try ModelConfig(json: bytes, source: "cfg.json")
      }
      #expect(error?.code == .invalidConfig, "\(key)")
      #expect(error?.message.contains(key) == true, "\(key): \(error?.message ?? "")")
    }
    let notJSON = #expect(throws: TroLError.self) {
      try ModelConfig(json: Array("{\"hidden".utf8), source: "cfg.json")
    }
    #expect(notJSON?.code == .invalidConfig)
  }
}

extension ModelConfig.Decoder {
  /// [D, H, Hkv, Dh, layers, I, V], the order the fixture expectations list them in.
  fileprivate var sizes: [Int] {
    [hiddenSize, heads, kvHeads, headDim, layers, intermediateSize, vocabSize]
  }
}

extension ModelConfig.Vision {
  /// [C, layers, heads, I, P, S], the order the fixture expectations list them in.
  fileprivate var sizes: [Int] {
    [hiddenSize, layers, heads, intermediateSize, patchSize, imageSize]
  }
}
