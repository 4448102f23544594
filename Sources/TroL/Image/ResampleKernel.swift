/// Fixed-point weights for resampling one axis, and the two separable passes that apply them.
///
/// Both reference resizers (PIL's `ImagingResample` and PyTorch's uint8 bicubic, itself a port of
/// it) work this way: per output index, a run of `counts[o]` input samples starting at
/// `starts[o]` is weighted by integers scaled by 2^precision; the sum plus half a unit is shifted
/// right by `precision` and clamped to 0...255. The horizontal pass runs first, its result is
/// rounded to bytes, then the vertical pass runs on that.
package struct ResampleKernel: Sendable {
  /// First input index used by each output index.
  package var starts: [Int]
  /// Number of input indices used by each output index.
  package var counts: [Int]
  /// Weights per output index, `stride` slots each (only the first `counts[o]` are used).
  package var weights: [Int32]
  /// Slots per output index in `weights`.
  package var stride: Int
  /// Fractional bits of the weights.
  package var precision: Int

  /// The Keys cubic convolution kernel with parameter `a` at `distance`: the piece for |x| < 1 as
  /// both references write it, `outer(|x|)` for 1 ≤ |x| < 2 (each reference has its own operation
  /// order there, which rounds differently), 0 beyond.
  @inline(__always)
  static func keysCubic(_ distance: Double, a: Double, outer: (Double) -> Double) -> Double {
    let x = abs(distance)
    if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
    return x < 2 ? outer(x) : 0
  }

  /// `value` rounded half away from zero, as both references round their scaled weights.
  static func fixedPoint(_ value: Double) -> Int32 {
    Int32(value < 0 ? (-0.5 + value).rounded(.towardZero) : (0.5 + value).rounded(.towardZero))
  }

  /// Pillow's weights for one axis (`precompute_coeffs`, then `normalize_coeffs_8bpc`), for any
  /// of its filters: `filter` reaches `support` input pixels either side at scale 1, and is
  /// stretched by the scale when downscaling (antialiasing); per output index: centre
  /// (o + 0.5)·scale, window [int(centre − support + 0.5), int(centre + support + 0.5)) cut to
  /// the image, weights normalized by their sum, scaled by 2^precision and rounded half away from
  /// zero. PIL's BICUBIC (`PILBicubic`) and LANCZOS (Curation's `PillowLanczos`) are this.
  package static func pillow(
    inputSize: Int, outputSize: Int, support filterSupport: Double, precision: Int,
    filter: (Double) -> Double
  ) -> ResampleKernel {
    let scale = Double(inputSize) / Double(outputSize)
    let filterScale = max(scale, 1)
    let support = filterSupport * filterScale
    let stride = Int(support.rounded(.up)) * 2 + 1
    var starts = [Int](repeating: 0, count: outputSize)
    var counts = [Int](repeating: 0, count: outputSize)
    var weights = [Int32](repeating: 0, count: outputSize * stride)
    var real = [Double](repeating: 0, count: stride)
    let unit = Double(1 << precision)
    let inverse = 1.0 / filterScale
    for o in 0..<outputSize {
      let center = (Double(o) + 0.5) * scale
      // C's (int) truncates toward zero, then the window is cut to the image.
      let start = max(Int(center - support + 0.5), 0)
      let count = min(max(min(Int(center + support + 0.5), inputSize) - start, 0), stride)
      var sum = 0.0
      for t in 0..<count {
        let w = filter((Double(t + start) - center + 0.5) * inverse)
        real[t] = w
        sum += w
      }
      starts[o] = start
      counts[o] = count
      for t in 0..<count {
        let w = sum != 0 ? real[t] / sum : real[t]
        weights[o * stride + t] = fixedPoint(w * unit)
      }
    }
    return ResampleKernel(
      starts: starts, counts: counts, weights: weights, stride: stride, precision: precision)
  }

  var outputSize: Int { starts.count }

  /// Resamples rows `rows` of `image` along x into a `outputSize`-wide image of `rows.count` rows.
  func horizontal(_ image: RGBImage, rows: Range<Int>) -> RGBImage {
    precondition(precision >= 1 && precision <= 30, "resample precision \(precision)")
    let outWidth = outputSize
    let inWidth = image.width
    let half = Int32(1) << Int32(precision - 1)
    let shift = SIMD4<Int32>(repeating: Int32(precision))
    var output = [UInt8](repeating: 0, count: outWidth * rows.count * 3)
    image.pixels.withUnsafeBufferPointer { source in
      weights.withUnsafeBufferPointer { weights in
        starts.withUnsafeBufferPointer { starts in
          counts.withUnsafeBufferPointer { counts in
            output.withUnsafeMutableBufferPointer { out in
              guard let source = source.baseAddress, let weights = weights.baseAddress,
                let out = out.baseAddress
              else { return }
              for (outRow, row) in rows.enumerated() {
                let line = source + row * inWidth * 3
                let outLine = out + outRow * outWidth * 3
                for x in 0..<outWidth {
                  let first = line + starts[x] * 3
                  let k = weights + x * stride
                  // R, G, B in lanes 0...2; lane 3 stays unused so that no byte past the
                  // image is ever read.
                  var sum = SIMD4<Int32>(half, half, half, 0)
                  for t in 0..<counts[x] {
                    let p = first + t * 3
                    sum &+= SIMD4<Int32>(Int32(p[0]), Int32(p[1]), Int32(p[2]), 0) &* k[t]
                  }
                  let value = Self.clamp(sum &>> shift)
                  outLine[x * 3] = UInt8(truncatingIfNeeded: value.x)
                  outLine[x * 3 + 1] = UInt8(truncatingIfNeeded: value.y)
                  outLine[x * 3 + 2] = UInt8(truncatingIfNeeded: value.z)
                }
              }
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
    precondition(precision >= 1 && precision <= 30, "resample precision \(precision)")
    let outHeight = outputSize
    let rowBytes = image.width * 3
    let half = Int32(1) << Int32(precision - 1)
    let shift = Int32(precision)
    var output = [UInt8](repeating: 0, count: rowBytes * outHeight)
    // One output row's sums; a tap's weight is read once per row, so `weights` is indexed as is.
    withUnsafeTemporaryAllocation(of: Int32.self, capacity: rowBytes) { accumulator in
      image.pixels.withUnsafeBufferPointer { source in
        output.withUnsafeMutableBufferPointer { out in
          guard let acc = accumulator.baseAddress, let source = source.baseAddress,
            let out = out.baseAddress
          else { return }
          for y in 0..<outHeight {
            acc.initialize(repeating: half, count: rowBytes)
            let first = starts[y] - rowOffset
            for t in 0..<counts[y] {
              let w = weights[y * stride + t]
              let line = source + (first + t) * rowBytes
              for i in 0..<rowBytes {
                acc[i] = acc[i] &+ w &* Int32(line[i])
              }
            }
            let outLine = out + y * rowBytes
            for i in 0..<rowBytes {
              outLine[i] = UInt8(truncatingIfNeeded: min(max(acc[i] &>> shift, 0), 255))
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
  static func clamp(_ value: SIMD4<Int32>) -> SIMD4<Int32> {
    value.clamped(lowerBound: SIMD4(repeating: 0), upperBound: SIMD4(repeating: 255))
  }
}

extension ResampleKernel {
  /// The reference for `resample`: both full passes with plain indexing, one channel at a time.
  /// Tests check that the optimized passes (SIMD lanes, raw pointers, narrowed rows) agree with it.
  static func resampleNaive(
    _ image: RGBImage, horizontal: ResampleKernel?, vertical: ResampleKernel?
  ) -> RGBImage {
    var width = image.width
    var height = image.height
    var pixels = image.pixels
    if let kernel = horizontal {
      var next = [UInt8](repeating: 0, count: kernel.outputSize * height * 3)
      for y in 0..<height {
        for x in 0..<kernel.outputSize {
          for c in 0..<3 {
            var sum = 1 << (kernel.precision - 1)
            for t in 0..<kernel.counts[x] {
              sum +=
                Int(kernel.weights[x * kernel.stride + t])
                * Int(pixels[(y * width + kernel.starts[x] + t) * 3 + c])
            }
            next[(y * kernel.outputSize + x) * 3 + c] = UInt8(
              min(max(sum >> kernel.precision, 0), 255))
          }
        }
      }
      width = kernel.outputSize
      pixels = next
    }
    if let kernel = vertical {
      var next = [UInt8](repeating: 0, count: width * kernel.outputSize * 3)
      for y in 0..<kernel.outputSize {
        for x in 0..<width {
          for c in 0..<3 {
            var sum = 1 << (kernel.precision - 1)
            for t in 0..<kernel.counts[y] {
              sum +=
                Int(kernel.weights[y * kernel.stride + t])
                * Int(pixels[((kernel.starts[y] + t) * width + x) * 3 + c])
            }
            next[(y * width + x) * 3 + c] = UInt8(min(max(sum >> kernel.precision, 0), 255))
          }
        }
      }
      height = kernel.outputSize
      pixels = next
    }
    return RGBImage(width: width, height: height, pixels: pixels)
  }
}

/// A reference resizer of RGB images, defined by the fixed-point weights it computes for one axis
/// (`PILBicubic`, `TorchBicubic`).
package protocol RGBResampler {
  /// The weights for resampling an axis of `inputSize` samples to `outputSize`.
  static func kernel(inputSize: Int, outputSize: Int) -> ResampleKernel
}

extension RGBResampler {
  /// Resizes `image` to `width`×`height` (each at least 1) with `kernel` for each axis; an axis
  /// whose size does not change is not resampled (and an unchanged image is returned as it is).
  package static func resize(_ image: RGBImage, width: Int, height: Int) -> RGBImage {
    precondition(width > 0 && height > 0, "resize target must be positive, got \(width)x\(height)")
    return ResampleKernel.resample(
      image,
      horizontal: width == image.width ? nil : kernel(inputSize: image.width, outputSize: width),
      vertical: height == image.height ? nil : kernel(inputSize: image.height, outputSize: height))
  }
}
