/// Fixed-point weights for resampling one axis, and the two separable passes that apply them.
///
/// Both reference resizers (PIL's `ImagingResample` and PyTorch's uint8 bicubic, itself a port of
/// it) work this way: per output index, a run of `counts[o]` input samples starting at
/// `starts[o]` is weighted by integers scaled by 2^precision; the sum plus half a unit is shifted
/// right by `precision` and clamped to 0...255. The horizontal pass runs first, its result is
/// rounded to bytes, then the vertical pass runs on that.
struct ResampleKernel: Sendable {
  /// First input index used by each output index.
  var starts: [Int]
  /// Number of input indices used by each output index.
  var counts: [Int]
  /// Weights per output index, `stride` slots each (only the first `counts[o]` are used).
  var weights: [Int32]
  /// Slots per output index in `weights`.
  var stride: Int
  /// Fractional bits of the weights.
  var precision: Int

  var outputSize: Int { starts.count }

  /// Resamples rows `rows` of `image` along x into a `outputSize`-wide image of `rows.count` rows.
  func horizontal(_ image: RGBImage, rows: Range<Int>) -> RGBImage {
    let outWidth = outputSize
    let inWidth = image.width
    let half = Int32(1) << Int32(precision - 1)
    let shift = Int32(precision)
    var output = [UInt8](repeating: 0, count: outWidth * rows.count * 3)
    image.pixels.withUnsafeBufferPointer { source in
      weights.withUnsafeBufferPointer { weights in
        output.withUnsafeMutableBufferPointer { out in
          for (outRow, row) in rows.enumerated() {
            let line = row * inWidth * 3
            let outLine = outRow * outWidth * 3
            for x in 0..<outWidth {
              let start = line + starts[x] * 3
              let k = x * stride
              var r = half
              var g = half
              var b = half
              for t in 0..<counts[x] {
                let w = weights[k + t]
                let p = start + t * 3
                r = r &+ w &* Int32(source[p])
                g = g &+ w &* Int32(source[p + 1])
                b = b &+ w &* Int32(source[p + 2])
              }
              out[outLine + x * 3] = Self.clamp(r >> shift)
              out[outLine + x * 3 + 1] = Self.clamp(g >> shift)
              out[outLine + x * 3 + 2] = Self.clamp(b >> shift)
            }
          }
        }
      }
    }
    return RGBImage(width: outWidth, height: rows.count, pixels: output)
  }

  /// Resamples `image` along y. `rowOffset` is subtracted from `starts` (the horizontal pass may
  /// have produced only the rows from `rowOffset` on).
  func vertical(_ image: RGBImage, rowOffset: Int = 0) -> RGBImage {
    let outHeight = outputSize
    let rowBytes = image.width * 3
    let half = Int32(1) << Int32(precision - 1)
    let shift = Int32(precision)
    var output = [UInt8](repeating: 0, count: rowBytes * outHeight)
    var accumulator = [Int32](repeating: 0, count: rowBytes)
    image.pixels.withUnsafeBufferPointer { source in
      weights.withUnsafeBufferPointer { weights in
        output.withUnsafeMutableBufferPointer { out in
          accumulator.withUnsafeMutableBufferPointer { acc in
            for y in 0..<outHeight {
              for i in 0..<rowBytes { acc[i] = half }
              let first = starts[y] - rowOffset
              for t in 0..<counts[y] {
                let w = weights[y * stride + t]
                let line = (first + t) * rowBytes
                for i in 0..<rowBytes {
                  acc[i] = acc[i] &+ w &* Int32(source[line + i])
                }
              }
              let outLine = y * rowBytes
              for i in 0..<rowBytes {
                out[outLine + i] = Self.clamp(acc[i] >> shift)
              }
            }
          }
        }
      }
    }
    return RGBImage(width: image.width, height: outHeight, pixels: output)
  }

  /// Applies a horizontal kernel (nil: width unchanged) then a vertical one (nil: height unchanged).
  ///
  /// Like PIL, the horizontal pass only computes the rows the vertical pass reads.
  static func resample(
    _ image: RGBImage, horizontal: ResampleKernel?, vertical: ResampleKernel?
  ) -> RGBImage {
    switch (horizontal, vertical) {
    case (nil, nil):
      return image
    case (let horizontal?, nil):
      return horizontal.horizontal(image, rows: 0..<image.height)
    case (nil, let vertical?):
      return vertical.vertical(image)
    case (let horizontal?, let vertical?):
      let first = vertical.starts.first ?? 0
      let last = (vertical.starts.last ?? 0) + (vertical.counts.last ?? 0)
      let narrowed = horizontal.horizontal(image, rows: first..<last)
      return vertical.vertical(narrowed, rowOffset: first)
    }
  }

  @inline(__always)
  static func clamp(_ value: Int32) -> UInt8 {
    UInt8(truncatingIfNeeded: min(max(value, 0), 255))
  }
}
