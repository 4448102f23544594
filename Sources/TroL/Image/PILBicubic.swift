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
public enum PILBicubic {
  /// Resizes an image as `PIL.Image.resize((width, height))` does: to `width`×`height` (each at
  /// least 1); the image itself when the size is unchanged.
  public static func resize(_ image: RGBImage, width: Int, height: Int) -> RGBImage {
    ResampleKernel.resize(
      image, width: width, height: height, kernel: kernel(inputSize:outputSize:))
  }

  /// Pillow's `bicubic_filter` (a = −0.5), in its operation order.
  static func cubic(_ distance: Double) -> Double {
    let a = -0.5
    let x = abs(distance)
    if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
    if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
    return 0
  }

  static let precision = 22

  static func kernel(inputSize: Int, outputSize: Int) -> ResampleKernel {
    ResampleKernel.pillow(
      inputSize: inputSize, outputSize: outputSize, support: 2, precision: precision,
      filter: cubic)
  }
}
