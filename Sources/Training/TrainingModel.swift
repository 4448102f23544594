internal import Foundation
public import Tensor
public import TroL
internal import TrolleyBasics

/// A TroL checkpoint loaded for training: frozen decoder weights in the chosen format, and the
/// trainable projector, gate and (for step 2) LoRA adapters in the run's precision T.
public final class TrainingModel<T: Real>: @unchecked Sendable {
  public let family: Family
  public let directory: ModelDirectory
  public let tokenizer: any TextTokenizer
  public let template: ChatTemplate
  /// The placeholder id whose rows receive image features.
  public let imageTokenID: Int
  let geometry: LayerGeometry<T>
  let layers: [DecoderLayer<T>]
  let embedding: FrozenMatrix
  let finalNorm: Parameter<T>
  let head: FrozenMatrix
  /// The checkpoint names of the token embedding table and the LM head.
  let embeddingName: String
  let headName: String
  /// The embedding table, the LM head and the vision tower as trainable tensors: set by
  /// `unfreezeAll()` for the `all` set (nil otherwise: the frozen matrices serve).
  private(set) var embeddingParameter: Parameter<T>?
  private(set) var headParameter: Parameter<T>?
  private(set) var visionTower: VisionTower<T>?
  let projector: Projector<T>
  /// The shared TroL gate: g [1, D] and c [1].
  public let gateWeight: Parameter<T>
  public let gateBias: Parameter<T>
  /// Rotary inverse frequencies (short and long LongRoPE factor sets; equal for InternLM2).
  let shortFrequencies: [Float]
  let longFrequencies: [Float]
  let ropeMagnitude: Float
  /// Sequences longer than this use the long factors (Phi-3's original_max_position_embeddings).
  let originalMaxPositions: Int
  /// Run every layer twice with the gate (TroL); false runs each layer once (ablation).
  public var traversal = true
  public let vocabulary: Int
  /// The prefix of official decoder names (`model.` or `language_model.model.`).
  public let decoderPrefix: String

  /// Loads `path` with frozen matrices in `format`.
  @_specialize(where T == Float)
  public init(path: String, format: WeightFormat = .f32) throws {
    let directory = try ModelDirectory(path: path)
    self.directory = directory
    let config = directory.config
    family = config.family
    tokenizer = try TokenizerLoader.load(directory)
    template = config.template
    guard let imageID = tokenizer.tokenID(template.imageToken) else {
      throw TrainingError("\(path): the tokenizer has no \(template.imageToken) token")
    }
    imageTokenID = imageID
    let file = directory.weights
    let loader = WeightLoader(lookup: { try file.tensor($0) }, format: format)
    let d = config.decoder
    let D = d.hiddenSize
    let H = d.heads
    let Hkv = d.kvHeads
    let Dh = d.headDim
    let F = d.intermediateSize
    let V = d.vocabSize
    vocabulary = V
    func floats(_ key: String, _ shape: [Int]) throws -> [T] {
      try loader.floats(key, shape: shape).map { T($0) }
    }
    func frozen(_ key: String, out: Int, in inF: Int) throws -> FrozenMatrix {
      FrozenMatrix(try loader.linear(key, out: out, in: inF))
    }
    func parameter(_ key: String, _ shape: [Int], name: String? = nil) throws -> Parameter<T> {
      Parameter(name: name ?? key, shape: shape, values: try floats(key, shape))
    }
    let gate = try directory.gate()
    let width = (H + 2 * Hkv) * Dh
    switch family {
    case .internLM2:
      decoderPrefix = "model."
      let G = H / Hkv
      let layout = QKVLayout(
        width: width,
        queryColumns: (0..<H).map { h in ((h / G) * (G + 2) + h % G) * Dh },
        keyColumns: (0..<Hkv).map { j in (j * (G + 2) + G) * Dh },
        valueColumns: (0..<Hkv).map { j in (j * (G + 2) + G + 1) * Dh })
      geometry = LayerGeometry(
        hidden: D, heads: H, kvHeads: Hkv, headDim: Dh, intermediate: F, eps: T(d.rmsNormEps),
        layout: layout)
      func plora(_ module: String, out: Int, in inF: Int) throws -> AdaptedLinear<T> {
        let rank = try file.info(module + ".lora_A.weight").shape.first ?? 0
        return AdaptedLinear(
          module: module, base: try frozen(module + ".ffn.weight", out: out, in: inF),
          plora: (
            a: try frozen(module + ".lora_A.weight", out: rank, in: inF),
            b: try frozen(module + ".lora_B.weight", out: out, in: rank)
          ))
      }
      layers = try (0..<d.layers).map { i in
        let p = "model.layers.\(i)."
        return DecoderLayer(
          attentionNorm: try parameter(p + "attention_norm.weight", [D]),
          qkv: try plora(p + "attention.wqkv", out: width, in: D),
          output: try plora(p + "attention.wo", out: D, in: H * Dh),
          mlpNorm: try parameter(p + "ffn_norm.weight", [D]),
          mlpInput: .separate(
            gate: try plora(p + "feed_forward.w1", out: F, in: D),
            up: try plora(p + "feed_forward.w3", out: F, in: D)),
          down: try plora(p + "feed_forward.w2", out: D, in: F))
      }
      embeddingName = "model.tok_embeddings.weight"
      headName = "output.weight"
      embedding = try frozen(embeddingName, out: V + 1, in: D)
      finalNorm = try parameter("model.norm.weight", [D])
      head = try frozen(headName, out: V, in: D)
      let C = config.vision.hiddenSize
      projector = Projector(
        norm: nil,
        first: (
          try parameter("vision_proj.0.weight", [D, C]), try parameter("vision_proj.0.bias", [D])
        ),
        second: (
          try parameter("vision_proj.2.weight", [D, D]), try parameter("vision_proj.2.bias", [D])
        ))
      let rope = RotaryEmbedding(headDim: Dh, base: Float(d.ropeTheta))
      shortFrequencies = rope.inverseFrequencies
      longFrequencies = rope.inverseFrequencies
      ropeMagnitude = 1
      originalMaxPositions = d.maxPositionEmbeddings
    case .phi3:
      guard let phi3 = config.phi3 else { throw TrainingError("\(path): no llm_config") }
      decoderPrefix = "language_model.model."
      let layout = QKVLayout(
        width: width, queryColumns: (0..<H).map { h in h * Dh },
        keyColumns: (0..<Hkv).map { j in (H + j) * Dh },
        valueColumns: (0..<Hkv).map { j in (H + Hkv + j) * Dh })
      geometry = LayerGeometry(
        hidden: D, heads: H, kvHeads: Hkv, headDim: Dh, intermediate: F, eps: T(d.rmsNormEps),
        layout: layout)
      func plain(_ module: String, out: Int, in inF: Int) throws -> AdaptedLinear<T> {
        AdaptedLinear(
          module: module, base: try frozen(module + ".weight", out: out, in: inF), plora: nil)
      }
      layers = try (0..<d.layers).map { i in
        let p = "language_model.model.layers.\(i)."
        return DecoderLayer(
          attentionNorm: try parameter(p + "input_layernorm.weight", [D]),
          qkv: try plain(p + "self_attn.qkv_proj", out: width, in: D),
          output: try plain(p + "self_attn.o_proj", out: D, in: H * Dh),
          mlpNorm: try parameter(p + "post_attention_layernorm.weight", [D]),
          mlpInput: .packed(try plain(p + "mlp.gate_up_proj", out: 2 * F, in: D)),
          down: try plain(p + "mlp.down_proj", out: D, in: F))
      }
      embeddingName = "language_model.model.embed_tokens.weight"
      headName = "language_model.lm_head.weight"
      embedding = try frozen(embeddingName, out: V, in: D)
      finalNorm = try parameter("language_model.model.norm.weight", [D])
      head = try frozen(headName, out: V, in: D)
      let W = phi3.shuffledWidth
      projector = Projector(
        norm: (
          try parameter("vision_proj.0.weight", [W]), try parameter("vision_proj.0.bias", [W])
        ),
        first: (
          try parameter("vision_proj.1.weight", [D, W]), try parameter("vision_proj.1.bias", [D])
        ),
        second: (
          try parameter("vision_proj.3.weight", [D, D]), try parameter("vision_proj.3.bias", [D])
        ))
      let llm = phi3.llm
      let original = llm.originalMaxPositionEmbeddings
      originalMaxPositions = original
      if let scaling = llm.ropeScaling {
        let ratio = Double(llm.maxPositionEmbeddings) / Double(original)
        ropeMagnitude =
          ratio <= 1 ? 1 : Float((1 + log(ratio) / log(Double(original))).squareRoot())
        shortFrequencies =
          RotaryEmbedding(
            headDim: Dh, base: Float(llm.ropeTheta), factors: scaling.shortFactor.map { Float($0) },
            magnitude: ropeMagnitude
          ).inverseFrequencies
        longFrequencies =
          RotaryEmbedding(
            headDim: Dh, base: Float(llm.ropeTheta), factors: scaling.longFactor.map { Float($0) },
            magnitude: ropeMagnitude
          ).inverseFrequencies
      } else {
        ropeMagnitude = 1
        shortFrequencies =
          RotaryEmbedding(headDim: Dh, base: Float(llm.ropeTheta)).inverseFrequencies
        longFrequencies = shortFrequencies
      }
    default:
      throw TrainingError("\(path): training has no backward pass for the \(family) family")
    }
    gateWeight = Parameter(
      name: decoderPrefix + "trol_gating.0.weight", shape: [1, D], values: gate.weight.map { T($0) }
    )
    gateBias = Parameter(
      name: decoderPrefix + "trol_gating.0.bias", shape: [1], values: [T(gate.bias)])
  }

  /// Width of one vision feature row (the projector's input).
  public var visionFeatureWidth: Int { projector.inputWidth }
  public var hidden: Int { geometry.hidden }
  public var layerCount: Int { layers.count }

  /// Every decoder linear that step 2 adapts, in the goldens' site order.
  public var loraModules: [String] { layers.flatMap { $0.linears.map(\.module) } }

  /// Adds LoRA adapters (rank r, scale α/r) on every decoder linear. `initial` gives A and B by
  /// module (`<m>.A`, `<m>.B`); modules missing from it start as PEFT does: A Kaiming-uniform
  /// (a = √5, so U(±1/√in)) from `seed`, B = 0.
  public func addLoRA(rank: Int, alpha: Double, initial: [String: [Float]] = [:], seed: UInt64 = 0)
    throws
  {
    var random = SplitMix64(seed: seed)
    for layer in layers {
      for linear in layer.linears {
        let m = linear.module
        let inF = linear.inFeatures
        let out = linear.out
        var a: [T]
        var b: [T]
        if let ia = initial[m + ".A"], let ib = initial[m + ".B"] {
          guard ia.count == rank * inF, ib.count == out * rank else {
            throw TrainingError(
              "LoRA init for \(m): A has \(ia.count) values and B \(ib.count), expected [\(rank), \(inF)] and [\(out), \(rank)]; pass --lora-rank to match the file"
            )
          }
          a = ia.map { T($0) }
          b = ib.map { T($0) }
        } else {
          let bound = 1 / Double(inF).squareRoot()
          a = (0..<(rank * inF)).map { _ in T((random.nextUnit() * 2 - 1) * bound) }
          b = [T](repeating: 0, count: out * rank)
        }
        linear.lora = LoRAAdapter(
          module: m, rank: rank, alpha: alpha, a: a, b: b, in: inF, out: out)
      }
    }
  }

  /// The LoRA adapters, in site order (empty before `addLoRA`).
  public var adapters: [LoRAAdapter<T>] { layers.flatMap { $0.linears.compactMap(\.lora) } }

  /// The trainable parameters of `set`, in the goldens' order (LoRA sites, gate, projector; for
  /// `all` then the decoder's own tensors and the vision tower, once `unfreezeAll()` ran).
  public func parameters(_ set: TrainableSet) -> [Parameter<T>] {
    var list: [Parameter<T>] = []
    if set.usesLoRA { for a in adapters { list += [a.a, a.b] } }
    // Without traversal there is no gate in the model: it neither trains nor decays.
    if traversal { list += [gateWeight, gateBias] }
    list += projector.parameters
    if set.trainsEverything { list += unfrozenParameters }
    return list
  }

  /// Every parameter that may be trained, by name.
  public var allParameters: [Parameter<T>] {
    adapters.flatMap { [$0.a, $0.b] } + [gateWeight, gateBias] + projector.parameters
      + unfrozenParameters
  }

  /// The checkpoint's own tensors made trainable by `unfreezeAll()` (empty before).
  var unfrozenParameters: [Parameter<T>] {
    guard let embeddingParameter, let headParameter else { return [] }
    var list = [embeddingParameter]
    for layer in layers {
      list.append(layer.attentionNorm)
      list.append(layer.mlpNorm)
      list += layer.linears.compactMap(\.trainableBase)
    }
    list += [finalNorm, headParameter]
    return list + (visionTower?.parameters ?? [])
  }

  /// Whether `unfreezeAll()` ran: the `all` set can train.
  public var trainsEverything: Bool { embeddingParameter != nil }

  /// Makes every tensor trainable for the `all` set (training.md): the token embeddings, every
  /// norm, the decoder linears' bases (in the run's precision, read from the checkpoint as
  /// stored), the LM head and the vision tower. PLoRA stays frozen, as in every set. Training
  /// samples then carry pixels (`SampleBuilder`), since the tower runs inside the step.
  public func unfreezeAll() throws {
    guard !trainsEverything else { return }
    let load = ParameterLoader(file: directory.weights)
    for layer in layers {
      layer.trainsNorms = true
      for linear in layer.linears {
        let base: Parameter<T> = try load(ModelExport.baseKey(self, linear.module))
        guard base.count == linear.out * linear.inFeatures else {
          throw TrainingError(
            "\(base.name) has \(base.shape), expected [\(linear.out), \(linear.inFeatures)]")
        }
        linear.trainableBase = base
      }
    }
    embeddingParameter = try load(embeddingName)
    headParameter = try load(headName)
    visionTower = try VisionTower(family: family, config: directory.config, file: directory.weights)
    guard visionTower?.featureWidth == projector.inputWidth else {
      throw TrainingError(
        "the vision tower's features are \(visionTower?.featureWidth ?? 0) wide, the projector reads \(projector.inputWidth)"
      )
    }
  }

  /// Makes the parameters of `set` trainable and adds LoRA for step 2 (rank, α and `initial` as
  /// `addLoRA` takes them), the one preparation every caller of a set needs.
  public func prepare(
    _ set: TrainableSet, loraRank: Int, loraAlpha: Double, loraInit: [String: [Float]] = [:],
    seed: UInt64 = 0
  ) throws {
    if set.usesLoRA && adapters.isEmpty {
      try addLoRA(rank: loraRank, alpha: loraAlpha, initial: loraInit, seed: seed)
    }
    if set.trainsEverything { try unfreezeAll() }
  }
}
