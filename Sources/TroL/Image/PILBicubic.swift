/// Pillow's `Image.resize((w, h))` with its default filter, BICUBIC, on an RGB image, bit for bit,
/// as TroL-3.8B's `dynamic_preprocess` calls it for the tile grid and the thumbnail.
///
/// This is `ImagingResample` (libImaging/Resample.c):
/// * Keys cubic with a = −0.5; when downscaling, the support (2) is widened by the scale factor
///   and the kernel stretched by it (antialiasing), so a tap count of 2·ceil(2·scale)+1 at most;
/// * per output index: centre (o + 0.5)·scale, window [int(centre − support + 0.5),
///   int(centre + support + 0.5)) cut to the image, weights normalized by their sum (so the
///   border is handled by renormalization, not clamping);
/// * weights scaled by 2^22 and rounded half away from zero; sums rounded by adding 2^21;
/// * horizontal pass first (only on the rows the vertical pass reads), rounded to uint8, then
///   vertical; an axis whose size does not change is not resampled.
/// `resize(_:width:height:)` (from `RGBResampler`) is `PIL.Image.resize((width, height))`.
public enum PILBicubic: RGBResampler {
  /// Pillow's `bicubic_filter` (a = −0.5), in its operation order.
  static func cubic(_ distance: Double) -> Double {
    let a = -0.5
    return ResampleKernel.keysCubic(distance, a: a) { x in (((x - 5) * x + 8) * x - 4) * a }
  }

  static let precision = 22

  package static func kernel(inputSize: Int, outputSize: Int) -> ResampleKernel {
    ResampleKernel.pillow(
      inputSize: inputSize, outputSize: outputSize, support: 2, precision: precision,
      filter: cubic)
  }
}
