import TrolleyBasics

/// The CLIP ViT tower of the InternLM2 family (TroL-1.8B/7B): HF `CLIPVisionConfig` fields.
///
/// The released configs have no `vision_config` (the tower comes from
/// `openai/clip-vit-large-patch14-336`); then the CLIP-L/14 defaults apply, at the resolution
/// of `img_size` (490: the position table is interpolated to 35×35+1).
@dynamicMemberLookup
public struct CLIPVisionConfig: Sendable, Hashable, Codable, SharedConfigFields {
  /// Every key CLIP's config has, read as the config's own (`config.hiddenSize`): CLIP-L/14
  /// defaults, `quick_gelu`, LayerNorm epsilon 1e-5. `imageSize` is always overridden by the
  /// decoder config's `img_size`.
  public var fields: ViTFields

  /// CLIP-L/14 at `imageSize`.
  public init(imageSize: Int = 490) {
    fields = ViTFields(imageSize: imageSize, hiddenAct: "quick_gelu", layerNormEps: 1e-5)
  }

  public init(from decoder: any Decoder) throws {
    fields = try ViTFields(from: decoder, defaults: CLIPVisionConfig().fields)
  }

  public func encode(to encoder: any Encoder) throws { try fields.encode(to: encoder) }

  /// Patches per side (35 at 490 px).
  public var gridSize: Int { fields.imageSize / fields.patchSize }
  /// Patch tokens per image, CLS excluded (1225 at 490 px).
  public var patchCount: Int { gridSize * gridSize }

  func validate(_ check: ConfigValidator) throws {
    try fields.validate(check, wholePatches: true)
    guard fields.hiddenAct == "quick_gelu" || fields.hiddenAct == "gelu" else {
      throw check.fail("hidden_act", "'\(fields.hiddenAct)' is not supported (quick_gelu or gelu)")
    }
  }
}
