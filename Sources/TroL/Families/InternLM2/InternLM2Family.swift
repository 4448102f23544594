// The InternLM2 family (TroL-1.8B, TroL-7B): InternLM2 with Partial LoRA, the CLIP ViT-L/14
// tower at 490 px and a two-layer GELU projector (docs/model.md, "Families").

internal import Tensor
import TrolleyBasics

extension Family {
  /// TroL-1.8B / 7B: InternLM2 with Partial-LoRA, CLIP ViT-L/14, one 490 px image.
  public static let internLM2 = Family(rawValue: "internlm2")
}

extension ModelConfig {
  /// The full InternLM2 config (nil for other families).
  public var internLM2: InternLM2Config? { details as? InternLM2Config }
}

extension InternLM2Config: FamilyConfig {
  static var family: Family { .internLM2 }
  static var title: String {
    "InternLM2 + Partial-LoRA decoder, CLIP ViT tower (TroL-1.8B/7B layout)"
  }
  static func recognizes(_ probe: ConfigProbe) -> Bool {
    !probe.hasLLMConfig && (probe.modelType == "internlm" || probe.modelType == "internlm2")
  }
  static var tokenizerFile: String { "tokenizer.model" }
  static var template: ChatTemplate { .internLM2 }

  var summary: ModelConfig.Summary {
    ModelConfig.Summary(
      decoder: fields.dimensions, vision: vision.fields.dimensions, imageSize: imgSize,
      imageTokensPerTile: imageTokens, maxTilesPerImage: 1, bosTokenId: fields.bosTokenId,
      eosTokenId: fields.eosTokenId, padTokenId: fields.padTokenId)
  }

  /// Stretched to `img_size` (490 released).
  var preprocessor: ImagePreprocessor { .internLM2(imageSize: imgSize) }

  /// Decoder layers, final norm, embeddings (one extra `<image>` row) and head, the CLIP tower,
  /// and `vision_proj` (F16, as released).
  var tensors: [CheckpointTensor] {
    let D = fields.hiddenSize
    let F = fields.intermediateSize
    let R = Self.ploraRank
    let qkv = (fields.numAttentionHeads + 2 * fields.numKeyValueHeads) * fields.headDim
    var list = TensorList(dtype: .f16, part: .decoder)
    func plora(_ p: String, _ out: Int, _ inFeatures: Int) {
      list.linear(p + ".ffn.weight", out, inFeatures)
      list.linear(p + ".lora_A.weight", R, inFeatures, part: .ploraAdapters)
      // Small B: the image-token correction stays a correction.
      list.add(
        p + ".lora_B.weight", [out, R], .random(std: 0.1 / Float(R).squareRoot()),
        part: .ploraAdapters)
    }
    for i in 0..<fields.numHiddenLayers {
      let p = "model.layers.\(i)."
      list.ones(p + "attention_norm.weight", D)
      plora(p + "attention.wqkv", qkv, D)
      plora(p + "attention.wo", D, fields.numAttentionHeads * fields.headDim)
      list.ones(p + "ffn_norm.weight", D)
      plora(p + "feed_forward.w1", F, D)
      plora(p + "feed_forward.w3", F, D)
      plora(p + "feed_forward.w2", D, F)
    }
    list.ones("model.norm.weight", D)
    list.add(
      "model.tok_embeddings.weight", [fields.vocabSize + 1, D], .random(std: 0.3),
      part: .embeddingsAndHead)
    list.add(
      "output.weight", [fields.vocabSize, D], .random(std: 2.5 / Float(D).squareRoot()),
      part: .embeddingsAndHead)
    var projector = TensorList(dtype: .f16, part: .projector)
    projector.linearWithBias("vision_proj.0", D, vision.hiddenSize)
    projector.linearWithBias("vision_proj.2", D, D)
    return list.tensors + CLIPVision.tensors(vision, dtype: .f16) + projector.tensors
  }

  func modules(loader: WeightLoader, gate: TroLGate, imageTokenID: Int?) throws -> FamilyModules {
    let decoder = try InternLM2(config: self, loader: loader, gate: gate)
    let tower = try CLIPVision(config: vision, loader: loader)
    let projector = try MLPProjector(
      loader: loader, visionWidth: tower.width, hidden: fields.hiddenSize)
    return FamilyModules(
      decoder: decoder, encoder: CLIPEncoder(tower: tower, projector: projector),
      eosTokenID: fields.eosTokenId ?? 2, imageTokenID: imageTokenID ?? fields.vocabSize)
  }
}

/// CLIP features of one image through the MLP projector.
struct CLIPEncoder: ImageEncoder {
  let tower: CLIPVision
  let projector: MLPProjector

  var imageSize: Int { tower.imageSize }
  var tokensPerTile: Int { tower.featureCount }

  func encode(
    _ pixels: UnsafePointer<Float>, tiles: Int, into output: UnsafeMutablePointer<Float>,
    hidden D: Int, tracer: Tracer?
  ) throws {
    guard tiles == 1 else {
      throw TroLError(
        .invalidRequest, "the CLIP tower takes one \(imageSize)×\(imageSize) image, got \(tiles)")
    }
    let perTile = tokensPerTile
    let scratch = tower.makeScratch()
    var features = [Float](repeating: 0, count: perTile * tower.width)
    var inner = [Float](repeating: 0, count: perTile * D)
    tower.forward(pixels, into: &features, scratch: scratch, tracer: tracer)
    features.withUnsafeBufferPointer { tracer?("vision", nil, $0) }
    projector.forward(
      features, rows: perTile, into: output, inner: &inner, scratch: MatmulScratch())
  }
}
