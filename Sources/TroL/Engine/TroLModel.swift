public import Foundation
internal import Tensor

/// A loaded TroL model: vision tower, projector and decoder of one family, with the shared gate.
///
/// Immutable after loading and safe to share between threads; per-run state lives in
/// `DecoderRunner` and the caches.
public final class TroLModel: Sendable {
  /// The two architectures TroL ships in.
  public enum Family: String, Sendable, Codable {
    /// TroL-1.8B / TroL-7B: CLIP ViT-L/14 at 490 px, InternLM2 with Partial LoRA.
    case internLM2 = "internlm2"
    /// TroL-3.8B: InternViT-300M with dynamic tiles, Phi-3-mini.
    case phi3
  }

  enum Vision: Sendable {
    case clip(CLIPVision, MLPProjector)
    case internViT(InternViT, LayerNormMLPProjector)
  }

  public let family: Family
  let decoder: any DecoderModel
  let vision: Vision
  /// The placeholder id whose embedding rows receive image features.
  public let imageTokenID: Int
  /// `</s>`: generation stops here (trol-engine.md §6.3).
  public let eosTokenID: Int
  /// Bytes held by decoder weights in memory.
  public let weightBytes: Int
  /// Bytes of weights a decode step reads: every layer's matrices and the LM head (one embedding
  /// row is negligible).
  public let streamedBytesPerToken: Int
  /// Matrix parameters each prompt token multiplies through per pass (layers' base matrices).
  public let matrixParametersPerToken: Int
  /// Matrix parameters an image token multiplies through per pass on top of those: InternLM2's
  /// Partial LoRA adapters (A and B of every projection); 0 for Phi-3.
  public let loraParametersPerImageToken: Int

  /// Builds the model from config.json, the checkpoint's tensors and the gate.
  ///
  /// - Parameters:
  ///   - configJSON: the bytes of config.json.
  ///   - loader: the checkpoint's tensors in the chosen weight format.
  ///   - gate: g and c from `trol_gating.pt`.
  ///   - imageTokenID: the image placeholder id; InternLM2 defaults to `vocab_size` (`<image>`),
  ///     Phi-3 needs the tokenizer's `<IMG_CONTEXT>` id.
  /// - Throws: `invalidConfig` for an unreadable or unsupported config, checkpoint errors naming
  ///   the tensor otherwise.
  public init(configJSON: Data, loader: WeightLoader, gate: TroLGate, imageTokenID: Int?) throws {
    let object: [String: any Sendable]
    do {
      guard
        let parsed = try JSONSerialization.jsonObject(with: configJSON) as? [String: any Sendable]
      else {
        throw TroLError(.invalidConfig, "config.json is not a JSON object")
      }
      object = parsed
    } catch let error as TroLError {
      throw error
    } catch {
      throw TroLError(.invalidConfig, "config.json is not valid JSON: \(error)")
    }
    let json = JSONDecoder()
    func decode<T: Decodable>(_ type: T.Type, _ value: Any?, _ what: String) throws -> T {
      guard let value else { throw TroLError(.invalidConfig, "config.json has no \(what)") }
      do {
        return try json.decode(T.self, from: JSONSerialization.data(withJSONObject: value))
      } catch {
        throw TroLError(.invalidConfig, "config.json \(what) is malformed: \(error)")
      }
    }
    if object["llm_config"] != nil {
      family = .phi3
      let llm = try decode(Phi3.Config.self, object["llm_config"], "llm_config")
      let visionConfig = try decode(InternViT.Config.self, object["vision_config"], "vision_config")
      guard let imageTokenID else {
        throw TroLError(.invalidConfig, "a Phi-3 TroL model needs the tokenizer's <IMG_CONTEXT> id")
      }
      let phi3 = try Phi3(config: llm, loader: loader, gate: gate)
      let tower = try InternViT(config: visionConfig, loader: loader)
      let projector = try LayerNormMLPProjector(
        loader: loader, inputWidth: tower.featureWidth, hidden: llm.hidden_size)
      decoder = phi3
      vision = .internViT(tower, projector)
      self.imageTokenID = imageTokenID
      eosTokenID = llm.eos_token_id ?? 2
      weightBytes = Self.bytes(phi3)
      streamedBytesPerToken = weightBytes - phi3.embeddings.byteCount
      loraParametersPerImageToken = 0
      matrixParametersPerToken = phi3.layers.reduce(0) {
        $0
          + [$1.qkv, $1.output, $1.gateUp, $1.down].reduce(0) {
            $0 + $1.inFeatures * $1.outFeatures
          }
      }
    } else {
      family = .internLM2
      let config = try decode(InternLM2.Config.self, object, "InternLM2 keys")
      var visionConfig = CLIPVision.Config()
      if object["vision_config"] != nil {
        visionConfig = try decode(CLIPVision.Config.self, object["vision_config"], "vision_config")
      }
      let imageSize = config.img_size ?? 490
      let internLM2 = try InternLM2(config: config, loader: loader, gate: gate)
      let tower = try CLIPVision(config: visionConfig, imageSize: imageSize, loader: loader)
      let projector = try MLPProjector(
        loader: loader, visionWidth: tower.width, hidden: config.hidden_size)
      decoder = internLM2
      vision = .clip(tower, projector)
      self.imageTokenID = imageTokenID ?? config.vocab_size
      eosTokenID = config.eos_token_id ?? 2
      weightBytes = Self.bytes(internLM2)
      // PLoRA adapters are read only for image tokens, never in decode steps.
      streamedBytesPerToken =
        internLM2.head.byteCount
        + internLM2.layers.reduce(0) { total, layer in
          total
            + [layer.wqkv, layer.wo, layer.w1, layer.w2, layer.w3].reduce(0) {
              $0 + $1.base.byteCount
            }
        }
      matrixParametersPerToken = internLM2.layers.reduce(0) { total, layer in
        total
          + [layer.wqkv, layer.wo, layer.w1, layer.w2, layer.w3].reduce(0) {
            $0 + $1.base.inFeatures * $1.base.outFeatures
          }
      }
      loraParametersPerImageToken = internLM2.layers.reduce(0) { total, layer in
        total
          + [layer.wqkv, layer.wo, layer.w1, layer.w2, layer.w3].reduce(0) {
            $0 + $1.loraA.inFeatures * $1.loraA.outFeatures + $1.loraB.inFeatures
              * $1.loraB.outFeatures
          }
      }
    }
  }

  private static func bytes(_ model: InternLM2) -> Int {
    model.layers.reduce(model.embeddings.byteCount + model.head.byteCount) { total, layer in
      total
        + [layer.wqkv, layer.wo, layer.w1, layer.w2, layer.w3].reduce(0) {
          $0 + $1.base.byteCount + $1.loraA.byteCount + $1.loraB.byteCount
        }
    }
  }

  private static func bytes(_ model: Phi3) -> Int {
    model.layers.reduce(model.embeddings.byteCount + model.head.byteCount) {
      $0 + $1.qkv.byteCount + $1.output.byteCount + $1.gateUp.byteCount + $1.down.byteCount
    }
  }

  /// Dimensions of the decoder.
  public var shape: DecoderShape { decoder.shape }

  /// Side of the square the vision tower takes (490 for CLIP in the released models, the tile size
  /// 448 for InternViT).
  public var imageSize: Int {
    switch vision {
    case .clip(let tower, _): tower.imageSize
    case .internViT(let tower, _): tower.config.image_size
    }
  }

  /// Image tokens per image (CLIP) or per tile (InternViT).
  public var imageTokensPerTile: Int {
    switch vision {
    case .clip(let tower, _): tower.featureCount
    case .internViT(let tower, _): tower.featuresPerTile
    }
  }

  /// Projected image features [tiles · imageTokensPerTile, D] for normalized pixels
  /// [tiles, 3, S, S] (one tile for CLIP).
  ///
  /// - Throws: `invalidRequest` if the pixel count is not a whole number of tiles.
  public func imageFeatures(pixels: UnsafeBufferPointer<Float>, tracer: Tracer? = nil) throws
    -> [Float]
  {
    let S = imageSize
    let tileValues = 3 * S * S
    guard pixels.count > 0, pixels.count % tileValues == 0 else {
      throw TroLError(
        .invalidRequest,
        "image tensor of \(pixels.count) values is not a whole number of 3×\(S)×\(S) tiles")
    }
    let tiles = pixels.count / tileValues
    let D = shape.hidden
    let perTile = imageTokensPerTile
    var output = [Float](repeating: 0, count: tiles * perTile * D)
    let matmul = MatmulScratch()
    switch vision {
    case .clip(let tower, let projector):
      guard tiles == 1 else {
        throw TroLError(.invalidRequest, "the CLIP tower takes one \(S)×\(S) image, got \(tiles)")
      }
      let scratch = tower.makeScratch()
      var features = [Float](repeating: 0, count: perTile * tower.width)
      var inner = [Float](repeating: 0, count: perTile * D)
      tower.forward(pixels.baseAddress!, into: &features, scratch: scratch, tracer: tracer)
      features.withUnsafeBufferPointer { tracer?("vision", nil, $0) }
      projector.forward(features, rows: perTile, into: &output, inner: &inner, scratch: matmul)
    case .internViT(let tower, let projector):
      let scratch = tower.makeScratch()
      let W = tower.featureWidth
      var features = [Float](repeating: 0, count: tiles * perTile * W)
      for t in 0..<tiles {
        features.withUnsafeMutableBufferPointer {
          tower.forward(
            pixels.baseAddress! + t * tileValues, into: $0.baseAddress! + t * perTile * W,
            scratch: scratch,
            tracer: tracer)
        }
      }
      features.withUnsafeBufferPointer { tracer?("vision", nil, $0) }
      var normed = [Float](repeating: 0, count: tiles * perTile * W)
      var inner = [Float](repeating: 0, count: tiles * perTile * D)
      projector.forward(
        features, rows: tiles * perTile, into: &output, normed: &normed, inner: &inner,
        scratch: matmul)
    }
    output.withUnsafeBufferPointer { tracer?("projector", nil, $0) }
    return output
  }
}
