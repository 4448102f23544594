/// PyTorch's `F.interpolate(x, size=(h, w), mode="bicubic", align_corners=False)` on a uint8 image,
/// bit for bit, as TroL-1.8B/7B call it to stretch every image to 490×490.
///
/// This is the CPU uint8 kernel (`upsample_avx_bilinear_bicubic_uint8` in
/// aten/src/ATen/native/cpu, and its generic fallback, which computes the same integers):
/// * Keys cubic with a = −0.75 and exactly 4 taps, also when downscaling (no antialiasing);
/// * source position (dst + 0.5)·(in/out) − 0.5; its floor is taken after rounding to float32
///   (`floorf`), the fraction is clamped to [0, 1];
/// * taps outside the image are clamped to the border by adding their weight to the first or
///   last valid tap (the "accumulate out-of-bounds weights" scheme);
/// * weights are computed in double, then scaled to int16 with one precision per axis, the
///   largest that keeps the largest weight below 2^15, rounded half away from zero;
/// * separable: horizontal pass first, rounded and clamped to uint8, then the vertical pass;
///   an axis whose size does not change is not resampled.
/// The result is therefore not the float bicubic rounded: it can differ from it by ±1 where the
/// intermediate uint8 rounding or the int16 weights tip a value across .5. The fixture goldens
/// (torch 2.13, x86 CPU) are matched exactly.
/// `resize(_:width:height:)` (from `RGBResampler`) stretches to `width`×`height`: the aspect ratio
/// is not preserved.
public enum TorchBicubic: RGBResampler {
  /// The Keys cubic convolution kernel with a = −0.75, in torch's operation order.
  static func cubic(_ distance: Double) -> Double {
    let a = -0.75
    return ResampleKernel.keysCubic(distance, a: a) { x in
      ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    }
  }

  package static func kernel(inputSize: Int, outputSize: Int) -> ResampleKernel {
    let taps = 4
    let scale = Double(inputSize) / Double(outputSize)
    var starts = [Int](repeating: 0, count: outputSize)
    var counts = [Int](repeating: 0, count: outputSize)
    var real = [Double](repeating: 0, count: outputSize * taps)
    var largest = 0.0
    for o in 0..<outputSize {
      let source = scale * (Double(o) + 0.5) - 0.5
      let index = min(Int(Float(source).rounded(.down)), inputSize - 1)
      let lambda = min(max(source - Double(index), 0), 1)
      let unboundedStart = index - 1
      let start = max(unboundedStart, 0)
      let count = min(max(min(index + 3, inputSize) - start, 0), taps)
      starts[o] = start
      counts[o] = count
      var slot = 0
      for j in 0..<taps {
        let w = cubic(Double(j - 1) - lambda)
        if unboundedStart + j <= 0 {
          slot = 0
        } else if unboundedStart + j >= inputSize - 1 {
          slot = count - 1
        }
        real[o * taps + slot] += w
        largest = max(largest, real[o * taps + slot])
        slot += 1
      }
    }
    var precision = 0
    while precision < 22 {
      if Int(0.5 + largest * Double(1 << (precision + 1))) >= 1 << 15 { break }
      precision += 1
    }
    let unit = Double(1 << precision)
    let weights = real.map { ResampleKernel.fixedPoint($0 * unit) }
    return ResampleKernel(
      starts: starts, counts: counts, weights: weights, stride: taps, precision: precision)
  }
}
