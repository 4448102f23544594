internal import Foundation
import Synchronization
import TroL

/// Pillow's `Image.resize(size, Image.LANCZOS)` on a mode "L" image, bit for bit
/// (libImaging/Resample.c, the 8-bit path).
///
/// For each output index i of a pass from `input` to `output` samples:
/// * scale s = input/output, filter scale f = max(s, 1), support 3f, centre c = (i + 0.5) s;
/// * taps from max(0, int(c − 3f + 0.5)) to min(input, int(c + 3f + 0.5));
/// * weight K((x − c + 0.5) / f) with K(t) = sinc(t) sinc(t/3) on [−3, 3), divided by the
///   weights' double-precision sum, then scaled by 2^22 and rounded half away from zero;
/// * out = clip8((2^21 + Σ w·p) >> 22).
/// The horizontal pass runs first and is rounded to bytes; an axis whose size does not change is
/// not resampled (an unchanged size is a copy).
public enum PillowLanczos {
  static let precision: Int32 = 22

  /// Resizes a grey image.
  ///
  /// - Parameters:
  ///   - image: The source.
  ///   - width: Output width, at least 1.
  ///   - height: Output height, at least 1.
  public static func resize(_ image: GreyImage, width: Int, height: Int) -> GreyImage {
    precondition(width > 0 && height > 0, "resize target must be positive, got \(width)x\(height)")
    var current = image
    if width != image.width {
      current = horizontal(current, kernel: kernel(image.width, width))
    }
    if height != image.height {
      current = vertical(current, kernel: kernel(image.height, height))
    }
    return current
  }

  /// Kernels by (input, output) size: a collection's images share a few sizes, and each size
  /// needs four kernels (one sin per tap); bounded, cleared when full.
  static let kernels = Mutex<[Int: Kernel]>([:])

  static func kernel(_ input: Int, _ output: Int) -> Kernel {
    let key = input << 32 | output
    if let cached = kernels.withLock({ $0[key] }) { return cached }
    let made = ResampleKernel.pillow(
      inputSize: input, outputSize: output, support: 3, precision: Int(precision),
      filter: lanczos)
    kernels.withLock { cache in
      if cache.count >= 256 { cache.removeAll() }
      cache[key] = made
    }
    return made
  }

  /// Pillow's `lanczos_filter`: a sinc windowed by a sinc three times as wide.
  @inline(__always)
  static func lanczos(_ x: Double) -> Double {
    if -3.0 <= x && x < 3.0 { return sinc(x) * sinc(x / 3) }
    return 0
  }

  @inline(__always)
  static func sinc(_ x: Double) -> Double {
    if x == 0.0 { return 1.0 }
    let y = x * Double.pi
    return sin(y) / y
  }

  /// Fixed-point weights for one axis, as Pillow computes them for LANCZOS (support 3).
  typealias Kernel = ResampleKernel

  @inline(__always)
  static func clip8(_ sum: Int32) -> UInt8 {
    UInt8(truncatingIfNeeded: min(max(sum >> precision, 0), 255))
  }

  static func horizontal(_ image: GreyImage, kernel: Kernel) -> GreyImage {
    let outWidth = kernel.starts.count
    let inWidth = image.width
    let height = image.height
    let half: Int32 = 1 << (precision - 1)
    var output = [UInt8](repeating: 0, count: outWidth * height)
    image.pixels.withUnsafeBufferPointer { source in
      kernel.weights.withUnsafeBufferPointer { weights in
        output.withUnsafeMutableBufferPointer { out in
          guard let src = source.baseAddress, let w = weights.baseAddress, let dst = out.baseAddress
          else { return }
          // Raw pointers and wrapping arithmetic: the integer dot product then vectorizes (its
          // sum wraps like Pillow's int, so any order gives the same bits).
          for y in 0..<height {
            let row = src + y &* inWidth
            for x in 0..<outWidth {
              let taps = row + kernel.starts[x]
              let k = w + x &* kernel.stride
              var sum = half
              for t in 0..<kernel.counts[x] { sum &+= Int32(taps[t]) &* k[t] }
              dst[y &* outWidth &+ x] = clip8(sum)
            }
          }
        }
      }
    }
    return GreyImage(width: outWidth, height: height, pixels: output)
  }

  static func vertical(_ image: GreyImage, kernel: Kernel) -> GreyImage {
    let outHeight = kernel.starts.count
    let width = image.width
    let half: Int32 = 1 << (precision - 1)
    var output = [UInt8](repeating: 0, count: width * outHeight)
    var accumulator = [Int32](repeating: 0, count: width)
    image.pixels.withUnsafeBufferPointer { source in
      kernel.weights.withUnsafeBufferPointer { weights in
        output.withUnsafeMutableBufferPointer { out in
          accumulator.withUnsafeMutableBufferPointer { acc in
            guard let src = source.baseAddress, let w = weights.baseAddress,
              let dst = out.baseAddress, let sums = acc.baseAddress
            else { return }
            for y in 0..<outHeight {
              for i in 0..<width { sums[i] = half }
              let first = kernel.starts[y]
              for t in 0..<kernel.counts[y] {
                let weight = w[y &* kernel.stride &+ t]
                let line = src + (first &+ t) &* width
                for i in 0..<width { sums[i] &+= weight &* Int32(line[i]) }
              }
              let row = dst + y &* width
              for i in 0..<width { row[i] = clip8(sums[i]) }
            }
          }
        }
      }
    }
    return GreyImage(width: width, height: outHeight, pixels: output)
  }
}
