internal import Tensor

/// The embedding stage both vision towers share: the patch conv (as one product over unfolded
/// patches, with an optional bias), then `[CLS; patches] + positions`.
struct PatchEmbedding: Sendable {
  /// [C, 3·P·P]: the conv weight [C, 3, P, P], flattened.
  let weight: F32Weight
  /// [C] conv bias (InternViT), or nil (CLIP has none).
  let bias: [Float]?
  /// [C] CLS embedding.
  let classEmbedding: [Float]
  /// [G² + 1, C] position embedding.
  let positions: [Float]
  /// Input side S and patch side P, in pixels.
  let imageSize: Int
  let patchSize: Int

  /// C.
  var width: Int { weight.outFeatures }
  /// G².
  var patchCount: Int { (imageSize / patchSize) * (imageSize / patchSize) }

  /// scratch.hidden[G² + 1, C] = [CLS; conv(pixels[3, S, S]) + bias] + positions.
  func embed(_ pixels: UnsafePointer<Float>, scratch: VisionScratch) {
    let C = width
    let patches = patchCount
    let h = scratch.hidden
    unfoldPatches(pixels, imageSize: imageSize, patch: patchSize, into: scratch.patches)
    weight.multiply(
      scratch.patches, rows: patches, into: h + C, accumulate: false, scratch: scratch.matmul)
    bias?.withUnsafeBufferPointer { addBias(h + C, bias: $0.baseAddress!, rows: patches, dim: C) }
    h.update(from: classEmbedding, count: C)
    positions.withUnsafeBufferPointer { addInPlace(h, $0.baseAddress!, count: (patches + 1) * C) }
  }
}
