public import Foundation
internal import Tensor
import TrolleyBasics

/// A loaded TroL model: vision tower, projector and decoder of one family, with the shared gate.
///
/// Immutable after loading and safe to share between threads; per-run state lives in
/// `DecoderRunner` and the caches.
public final class TroLModel: Sendable {
  /// The validated config.json the model was built from: the very value `model inspect` reports.
  public let config: ModelConfig
  /// The decoder: its layers and weights (`InternLM2`, `Phi3`), for other modules of the package
  /// (training) as well.
  package let decoder: any DecoderModel
  let encoder: any ImageEncoder
  /// The placeholder id whose embedding rows receive image features.
  public let imageTokenID: Int
  /// `</s>`: generation stops here (docs/model.md, "Generation").
  public let eosTokenID: Int

  /// Builds the model from a validated config, the checkpoint's tensors and the gate.
  ///
  /// - Parameters:
  ///   - config: the decoded config.json (`ModelDirectory.config`).
  ///   - loader: the checkpoint's tensors in the chosen weight format; every request is checked
  ///     against the family's tensor list (`config.tensors`).
  ///   - gate: g and c from `trol_gating.pt`.
  ///   - imageTokenID: the image placeholder id; InternLM2 defaults to `vocab_size` (`<image>`),
  ///     Phi-3 needs the tokenizer's `<IMG_CONTEXT>` id.
  /// - Throws: checkpoint errors naming the tensor.
  public init(config: ModelConfig, loader: WeightLoader, gate: TroLGate, imageTokenID: Int?) throws
  {
    self.config = config
    let modules = try config.details.modules(
      loader: loader.checking(config.tensors), gate: gate, imageTokenID: imageTokenID)
    decoder = modules.decoder
    encoder = modules.encoder
    self.imageTokenID = modules.imageTokenID
    eosTokenID = modules.eosTokenID
  }

  /// Builds the model from config.json's bytes (decoded once, here).
  ///
  /// - Throws: `invalidConfig` for an unreadable or unsupported config, checkpoint errors naming
  ///   the tensor otherwise.
  public convenience init(
    configJSON: Data, loader: WeightLoader, gate: TroLGate, imageTokenID: Int?
  ) throws {
    try self.init(
      config: ModelConfig(json: [UInt8](configJSON), source: "config.json"), loader: loader,
      gate: gate, imageTokenID: imageTokenID)
  }

  /// The architecture.
  public var family: Family { config.family }
  /// Dimensions of the decoder.
  public var shape: DecoderShape { decoder.shape }
  /// Bytes of weights a decode step reads: every layer's matrices and the LM head.
  public var streamedBytesPerToken: Int { decoder.streamedBytesPerToken }
  /// Matrix parameters each prompt token multiplies through per pass (layers' base matrices).
  public var matrixParametersPerToken: Int { decoder.matrixParametersPerToken }
  /// Matrix parameters an image token multiplies through per pass on top of those: InternLM2's
  /// Partial LoRA adapters (A and B of every projection); 0 for Phi-3.
  public var loraParametersPerImageToken: Int { decoder.loraParametersPerImageToken }

  /// Side of the square the vision tower takes (490 for CLIP in the released models, the tile size
  /// 448 for InternViT).
  public var imageSize: Int { encoder.imageSize }

  /// Image tokens per image (CLIP) or per tile (InternViT).
  public var imageTokensPerTile: Int { encoder.tokensPerTile }

  /// Projected image features [tiles · imageTokensPerTile, D] for normalized pixels
  /// [tiles, 3, S, S] (one tile for CLIP).
  ///
  /// - Throws: `invalidRequest` if the pixel count is not a whole number of tiles.
  public func imageFeatures(pixels: UnsafeBufferPointer<Float>, tracer: Tracer? = nil) throws
    -> [Float]
  {
    let S = imageSize
    let tileValues = 3 * S * S
    guard let base = pixels.baseAddress, pixels.count > 0, pixels.count % tileValues == 0 else {
      throw TroLError(
        .invalidRequest,
        "image tensor of \(pixels.count) values is not a whole number of 3×\(S)×\(S) tiles")
    }
    let tiles = pixels.count / tileValues
    let D = shape.hidden
    var output = [Float](repeating: 0, count: tiles * imageTokensPerTile * D)
    try output.withUnsafeMutableBufferPointer {
      try encoder.encode(base, tiles: tiles, into: $0.baseAddress!, hidden: D, tracer: tracer)
    }
    output.withUnsafeBufferPointer { tracer?("projector", nil, $0) }
    return output
  }
}
