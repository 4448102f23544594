// The Phi-3 family (TroL-3.8B): Phi-3-mini with LongRoPE, the InternViT-300M tower over dynamic
// 448 px tiles with pixel shuffle, and a LayerNorm + MLP projector (docs/model.md, "Families").

internal import Tensor
import TrolleyBasics

extension Family {
  /// TroL-3.8B: Phi-3-mini, InternViT-300M, dynamic 448 px tiles.
  public static let phi3 = Family(rawValue: "phi3")
}

extension ModelConfig {
  /// The full TroL-3.8B config (nil for other families).
  public var phi3: TroLPhi3Config? { details as? TroLPhi3Config }
}

extension TroLPhi3Config: FamilyConfig {
  static var family: Family { .phi3 }
  static var title: String {
    "Phi-3 decoder, InternViT tower with dynamic tiles (TroL-3.8B layout)"
  }
  static func recognizes(_ probe: ConfigProbe) -> Bool { probe.hasLLMConfig }
  static var tokenizerFile: String { "tokenizer.json" }
  static var template: ChatTemplate { .phi3 }

  /// The tower's config at the tile size it runs at (`force_image_size`).
  var tower: InternViTConfig {
    var tower = vision
    tower.imageSize = tileSize
    return tower
  }

  var summary: ModelConfig.Summary {
    ModelConfig.Summary(
      decoder: llm.fields.dimensions, vision: tower.fields.dimensions, imageSize: tileSize,
      imageTokensPerTile: tokensPerTile,
      maxTilesPerImage: dynamicImageSize
        ? maxDynamicPatch + (useThumbnail && maxDynamicPatch > 1 ? 1 : 0) : 1,
      bosTokenId: llm.bosTokenId, eosTokenId: llm.eosTokenId, padTokenId: llm.padTokenId)
  }

  /// Tiles of `tileSize` (448 released) with at most 6 grid tiles plus a thumbnail: the official
  /// code calls `dynamic_preprocess` with its defaults (1...6, thumbnail on) and ignores the
  /// config's `min/max_dynamic_patch` and `use_thumbnail`, so they are ignored here too.
  var preprocessor: ImagePreprocessor { .phi3(tileSize: tileSize, maxTiles: 6) }

  /// Decoder layers, final norm, embeddings and head, the InternViT tower, and `vision_proj`
  /// (BF16, as released).
  var tensors: [CheckpointTensor] {
    let l = llm
    let D = l.hiddenSize
    let F = l.intermediateSize
    let qkv = (l.numAttentionHeads + 2 * l.numKeyValueHeads) * l.headDim
    let p = "language_model.model."
    var list = TensorList(dtype: .bf16, part: .decoder)
    for i in 0..<l.numHiddenLayers {
      let layer = p + "layers.\(i)."
      list.ones(layer + "input_layernorm.weight", D)
      list.linear(layer + "self_attn.qkv_proj.weight", qkv, D)
      list.linear(layer + "self_attn.o_proj.weight", D, l.numAttentionHeads * l.headDim)
      list.ones(layer + "post_attention_layernorm.weight", D)
      list.linear(layer + "mlp.gate_up_proj.weight", 2 * F, D)
      list.linear(layer + "mlp.down_proj.weight", D, F)
    }
    list.ones(p + "norm.weight", D)
    list.add(
      p + "embed_tokens.weight", [l.vocabSize, D], .random(std: 0.3), part: .embeddingsAndHead)
    list.add(
      "language_model.lm_head.weight", [l.vocabSize, D], .random(std: 2.5 / Float(D).squareRoot()),
      part: .embeddingsAndHead)
    var projector = TensorList(dtype: .bf16, part: .projector)
    projector.layerNorm("vision_proj.0", shuffledWidth)
    projector.linearWithBias("vision_proj.1", D, shuffledWidth)
    projector.linearWithBias("vision_proj.3", D, D)
    return list.tensors + InternViT.tensors(tower, dtype: .bf16) + projector.tensors
  }

  func modules(loader: WeightLoader, gate: TroLGate, imageTokenID: Int?) throws -> FamilyModules {
    guard let imageTokenID else {
      throw TroLError(.invalidConfig, "a Phi-3 TroL model needs the tokenizer's <IMG_CONTEXT> id")
    }
    let decoder = try Phi3(config: llm, loader: loader, gate: gate)
    let tower = try InternViT(config: tower, loader: loader)
    let projector = try LayerNormMLPProjector(
      loader: loader, inputWidth: tower.featureWidth, hidden: llm.hiddenSize)
    return FamilyModules(
      decoder: decoder, encoder: InternViTEncoder(tower: tower, projector: projector),
      eosTokenID: llm.eosTokenId ?? 2, imageTokenID: imageTokenID)
  }
}

/// InternViT features of each tile, pixel-shuffled, through the LayerNorm + MLP projector.
struct InternViTEncoder: ImageEncoder {
  let tower: InternViT
  let projector: LayerNormMLPProjector

  var imageSize: Int { tower.config.imageSize }
  var tokensPerTile: Int { tower.featuresPerTile }

  func encode(
    _ pixels: UnsafePointer<Float>, tiles: Int, into output: UnsafeMutablePointer<Float>,
    hidden D: Int, tracer: Tracer?
  ) throws {
    let perTile = tokensPerTile
    let tileValues = 3 * imageSize * imageSize
    let scratch = tower.makeScratch()
    let W = tower.featureWidth
    var features = [Float](repeating: 0, count: tiles * perTile * W)
    for t in 0..<tiles {
      features.withUnsafeMutableBufferPointer {
        tower.forward(
          pixels + t * tileValues, into: $0.baseAddress! + t * perTile * W, scratch: scratch,
          tracer: tracer)
      }
    }
    features.withUnsafeBufferPointer { tracer?("vision", nil, $0) }
    var normed = [Float](repeating: 0, count: tiles * perTile * W)
    var inner = [Float](repeating: 0, count: tiles * perTile * D)
    projector.forward(
      features, rows: tiles * perTile, into: output, normed: &normed, inner: &inner,
      scratch: MatmulScratch())
  }
}
