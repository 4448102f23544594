import Foundation
import Testing
import TroL
import TrolleyBasics

@Suite struct ModelInspectionTests {
  /// Part sizes recomputed from config.json alone agree with the counts from the header.
  @Test func internLM2PartsMatchTheArchitecture() throws {
    let model = try ModelDirectory(path: CheckpointFixtures.model("internlm2"))
    let inspection = try ModelInspection(model)
    let d = model.config.decoder
    let rank = InternLM2Config.ploraRank
    let qkv = (d.heads + 2 * d.kvHeads) * d.headDim
    let projections = [
      (d.hiddenSize, qkv), (d.hiddenSize, d.hiddenSize), (d.hiddenSize, d.intermediateSize),
      (d.intermediateSize, d.hiddenSize), (d.hiddenSize, d.intermediateSize),
    ]
    let lora = d.layers * projections.reduce(0) { $0 + rank * $1.0 + $1.1 * rank }
    let base =
      d.layers * (projections.reduce(0) { $0 + $1.0 * $1.1 } + 2 * d.hiddenSize) + d.hiddenSize
    let parts = Dictionary(uniqueKeysWithValues: inspection.parts.map { ($0.kind, $0) })
    #expect(parts[.ploraAdapters]?.parameters == lora)
    #expect(parts[.decoder]?.parameters == base)
    #expect(parts[.embeddingsAndHead]?.parameters == (2 * d.vocabSize + 1) * d.hiddenSize)
    #expect(parts[.gate]?.parameters == d.hiddenSize + 1)
    #expect(parts[.other] == nil)
    let v = model.config.vision
    let tokens = inspection.imageTokensPerTile
    let tower =
      3 * v.hiddenSize * 14 * 14 * v.hiddenSize / v.hiddenSize + v.hiddenSize + (tokens + 1)
      * v.hiddenSize
      + 4 * v.hiddenSize
      + v.layers
      * (4 * (v.hiddenSize * v.hiddenSize + v.hiddenSize) + 2 * v.hiddenSize * v.intermediateSize
        + v.intermediateSize + v.hiddenSize + 4 * v.hiddenSize)
    #expect(parts[.visionTower]?.parameters == tower)
    #expect(
      parts[.projector]?.parameters == v.hiddenSize * d.hiddenSize + d.hiddenSize * d.hiddenSize + 2
        * d.hiddenSize)
    #expect(inspection.totalParameters == inspection.parts.reduce(0) { $0 + $1.parameters })
    #expect(inspection.memory.f32 == 4 * inspection.totalParameters)
    #expect(inspection.memory.bits16 == 2 * inspection.totalParameters)
    #expect(parts[.decoder]?.dtypes == ["F16": 22])
    #expect(inspection.gate.entriesIdentical)
    #expect(inspection.text.contains("PLoRA adapters"))
    #expect(inspection.findings.isEmpty, "\(inspection.findings)")
  }

  @Test func phi3JSONReport() throws {
    let inspection = try ModelInspection(ModelDirectory(path: CheckpointFixtures.model("phi3")))
    #expect(inspection.family == .phi3)
    #expect(!inspection.parts.contains { $0.kind == .ploraAdapters })
    let json = try #require(
      try JSONSerialization.jsonObject(with: Data(inspection.json.utf8)) as? [String: Any])
    #expect(json["family"] as? String == "phi3")
    #expect(inspection.findings.isEmpty, "\(inspection.findings)")
    #expect(json["totalParameters"] as? Int == inspection.totalParameters)
    let memory = try #require(json["memory"] as? [String: Int])
    #expect(Set(memory.keys) == ["f32", "16bit", "q8", "q4"])
    #expect(memory["q4"]! < memory["q8"]! && memory["q8"]! < memory["16bit"]!)
  }

  @Test func missingFilesSayWhatToDo() throws {
    let folder = try CheckpointFixtures.scratchFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let source = CheckpointFixtures.model("internlm2")
    let notAFolder = #expect(throws: TroLError.self) { try ModelDirectory(path: folder + "/nope") }
    #expect(notAFolder?.message.contains("trolley model synth") == true)
    for name in ["config.json", "model.safetensors", "trol_gating.pt", "tokenizer.model"] {
      let error = #expect(throws: TroLError.self) { try ModelDirectory(path: folder) }
      #expect(error?.message.contains("no \(name) in \(folder)") == true, "\(error?.message ?? "")")
      #expect(error?.message.contains("trolley model synth --like tiny") == true)
      try FileManager.default.copyItem(atPath: "\(source)/\(name)", toPath: "\(folder)/\(name)")
    }
    let model = try ModelDirectory(path: folder)
    #expect(model.tokenizerJSONPath == nil)
    #expect(model.sentencePieceModelPath == folder + "/tokenizer.model")
    #expect(try model.gate().hiddenSize == 64)
  }

  /// A config that disagrees with the weights is reported key by key.
  @Test func findingsListDisagreements() throws {
    let folder = try CheckpointFixtures.scratchFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let source = CheckpointFixtures.model("phi3")
    for name in ["model.safetensors", "trol_gating.pt", "tokenizer.json"] {
      try FileManager.default.copyItem(atPath: "\(source)/\(name)", toPath: "\(folder)/\(name)")
    }
    var json = try CheckpointFixtures.json("\(source)/config.json")
    var llm = try #require(json["llm_config"] as? [String: Any])
    llm["intermediate_size"] = 192
    llm["vocab_size"] = 500
    json["llm_config"] = llm
    var vision = try #require(json["vision_config"] as? [String: Any])
    vision["num_hidden_layers"] = 3
    json["vision_config"] = vision
    try JSONSerialization.data(withJSONObject: json).write(
      to: URL(fileURLWithPath: folder + "/config.json"))
    let inspection = try ModelInspection(ModelDirectory(path: folder))
    let text = inspection.findings.joined(separator: "\n")
    #expect(
      text.contains("gate_up_proj.weight has shape [320, 96], config.json implies [384, 96]"),
      "\(text)")
    #expect(text.contains("embed_tokens.weight has shape [512, 96], config.json implies [500, 96]"))
    #expect(text.contains("2 vision layers"))
    #expect(inspection.text.contains("problem(s)"))
  }
}
