import Foundation
import Tensor
import Testing
import TrolleyBasics

@testable import TroL

/// config.json is decoded once per model load, and what `model inspect` reports is the very
/// config the engine runs: both families, as released and with every optional key left out.
@Suite struct FamilyConfigTests {
  /// The keys a config cannot do without for the fixtures' weights (widths, layer counts,
  /// vocabulary; InternLM2's `bias` because its default, true, is refused); everything else is
  /// left to the defaults.
  static func minimal(_ family: String, _ json: [String: Any]) -> [String: Any] {
    func keep(_ object: Any?, _ keys: [String]) -> [String: Any] {
      let object = object as? [String: Any] ?? [:]
      return object.filter { keys.contains($0.key) }
    }
    let widths = ["hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads"]
    if family == "internlm2" {
      var out = keep(
        json, widths + ["model_type", "num_key_value_heads", "vocab_size", "bias", "img_size"])
      out["vision_config"] = keep(json["vision_config"], widths)
      return out
    }
    return [
      "llm_config": keep(json["llm_config"], widths + ["vocab_size"]),
      "vision_config": keep(json["vision_config"], widths + ["image_size"]),
    ]
  }

  /// A copy of a fixture model folder, with config.json as given.
  static func folder(_ family: String, config: [String: Any]) throws -> String {
    let folder = try CheckpointFixtures.scratchFolder()
    let source = CheckpointFixtures.model(family)
    for name in try FileManager.default.contentsOfDirectory(atPath: source)
    where name != "config.json" {
      try FileManager.default.copyItem(atPath: "\(source)/\(name)", toPath: "\(folder)/\(name)")
    }
    try JSONSerialization.data(withJSONObject: config).write(
      to: URL(fileURLWithPath: folder + "/config.json"))
    return folder
  }

  @Test(arguments: [("internlm2", false), ("internlm2", true), ("phi3", false), ("phi3", true)])
  func inspectedConfigIsTheOneTheEngineRuns(family: String, minimal: Bool) throws {
    let released = try CheckpointFixtures.json(CheckpointFixtures.model(family) + "/config.json")
    let folder = try Self.folder(
      family, config: minimal ? Self.minimal(family, released) : released)
    defer { try? FileManager.default.removeItem(atPath: folder) }

    let inspection = try ModelInspection(ModelDirectory(path: folder))
    let engine = try TroLEngine.load(modelDirectory: folder, weights: .f32)
    let model = engine.model
    // The same value, field for field, defaults included.
    #expect(model.config == inspection.config)
    #expect(model.config.json == inspection.config.json)
    // ... and the values the engine's modules were built with are that config's.
    let d = inspection.decoder
    let shape = model.shape
    let engineShape: [Int] = [
      shape.hidden, shape.layers, shape.heads, shape.keyValueHeads, shape.headDim,
      shape.intermediate, shape.vocabulary,
    ]
    let reported: [Int] = [
      d.hiddenSize, d.layers, d.heads, d.kvHeads, d.headDim, d.intermediateSize, d.vocabSize,
    ]
    #expect(engineShape == reported)
    #expect(model.decoder.maxPositions == d.maxPositionEmbeddings)
    #expect(model.imageSize == inspection.imageSize)
    #expect(model.imageTokensPerTile == inspection.imageTokensPerTile)
    #expect(model.eosTokenID == inspection.config.eosTokenId ?? 2)
    #expect(engine.preprocessor == ImagePreprocessor(for: inspection.config))
    let v = inspection.vision
    switch model.encoder {
    case let clip as CLIPEncoder:
      #expect(clip.tower.layers.count == v.layers)
      #expect(clip.tower.eps == Float(v.layerNormEps))
      #expect(clip.tower.width == v.hiddenSize)
    case let intern as InternViTEncoder:
      #expect(intern.tower.layers.count == v.layers)
      #expect(intern.tower.layers.first?.eps == Float(v.layerNormEps))
      #expect(intern.tower.config.hiddenSize == v.hiddenSize)
    default:
      Issue.record("unexpected encoder \(type(of: model.encoder))")
    }
    switch model.decoder {
    case let decoder as InternLM2:
      #expect(decoder.eps == Float(d.rmsNormEps))
      #expect(decoder.config == inspection.config.internLM2)
    case let decoder as Phi3:
      #expect(decoder.eps == Float(d.rmsNormEps))
      #expect(decoder.config == inspection.config.phi3?.llm)
    default:
      Issue.record("unexpected decoder \(type(of: model.decoder))")
    }
    if minimal {
      // The defaults are written out in the report, so they can be read, not guessed.
      let report = try #require(
        try JSONSerialization.jsonObject(with: Data(inspection.json.utf8)) as? [String: Any])
      let config = try #require(report["config"] as? [String: Any])
      let llm = family == "phi3" ? config["llm_config"] as? [String: Any] : config
      #expect(llm?["rms_norm_eps"] as? Double == d.rmsNormEps)
      #expect(llm?["rope_theta"] as? Double == d.ropeTheta)
    }
  }

  /// The family's tensor list is the checkpoint's layout (the fixtures were written by the
  /// official code), and the loader asks for exactly the listed tensors the model uses.
  @Test(arguments: ["internlm2", "phi3"])
  func tensorListIsTheCheckpointLayoutAndTheLoaderReadsIt(family: String) throws {
    let directory = try ModelDirectory(path: CheckpointFixtures.model(family))
    let tensors = directory.config.tensors
    #expect(Set(tensors.map(\.name)).count == tensors.count)
    #expect(Set(tensors.map(\.name)) == Set(directory.weights.names))
    for tensor in tensors {
      let info = try directory.weights.info(tensor.name)
      #expect(info.shape == tensor.shape, "\(tensor.name)")
      #expect(info.dtype == tensor.dtype, "\(tensor.name)")
    }
    let file = directory.weights
    let loader = WeightLoader(lookup: { try file.tensor($0) }).checking(tensors)
    let tokenID = family == "phi3" ? 0 : nil
    _ = try directory.config.details.modules(
      loader: loader, gate: directory.gate(), imageTokenID: tokenID)
    #expect(loader.requests.all == Set(tensors.filter(\.loaded).map(\.name)))
  }

  /// A request the tensor list does not describe is refused with the key named.
  @Test func unlistedRequestIsRefused() throws {
    let directory = try ModelDirectory(path: CheckpointFixtures.model("internlm2"))
    let file = directory.weights
    let loader = WeightLoader(lookup: { try file.tensor($0) }).checking(directory.config.tensors)
    let error = #expect(throws: TroLError.self) {
      try loader.floats("model.norm.weight", shape: [65])
    }
    #expect(error?.message.contains("model.norm.weight") == true)
    #expect(try loader.floats("model.norm.weight", shape: [64]).count == 64)
  }

  @Test func oneFamilyPerName() {
    let names = Family.registered.map { $0.family.rawValue }
    #expect(Set(names).count == names.count)
    #expect(names == ["internlm2", "phi3"])
  }
}
