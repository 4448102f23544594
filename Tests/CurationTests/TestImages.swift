import Foundation
import TroL
import TrolleyBasics

/// Deterministic test images and their variants, so no binaries are committed.
enum TestImages {
  /// The xorshift generator: the same seed gives the same images everywhere.
  typealias Random = XorShift64

  /// A textured original: a random 6×5 colour grid upsampled (smooth), plus random rectangles.
  static func original(seed: UInt64, width: Int = 320, height: Int = 240) -> RGBImage {
    var random = Random(seed: seed)
    let grid = RGBImage(
      width: 6, height: 5, pixels: (0..<(6 * 5 * 3)).map { _ in UInt8(random.int(0...255)) })
    let smooth = PILBicubic.resize(grid, width: width, height: height)
    var pixels = smooth.pixels
    for _ in 0..<random.int(2...5) {
      let x0 = random.int(0...(width - 20))
      let y0 = random.int(0...(height - 20))
      let w = random.int(10...(width - x0))
      let h = random.int(10...(height - y0))
      let colour = (0..<3).map { _ in UInt8(random.int(0...255)) }
      for y in y0..<(y0 + h) {
        for x in x0..<(x0 + w) {
          for c in 0..<3 { pixels[(y * width + x) * 3 + c] = colour[c] }
        }
      }
    }
    return RGBImage(width: width, height: height, pixels: pixels)
  }

  static func resized(_ image: RGBImage, scale: Double) -> RGBImage {
    PILBicubic.resize(
      image, width: max(Int(Double(image.width) * scale), 8),
      height: max(Int(Double(image.height) * scale), 8))
  }

  static func brightened(_ image: RGBImage, by delta: Int) -> RGBImage {
    RGBImage(
      width: image.width, height: image.height,
      pixels: image.pixels.map { UInt8(min(max(Int($0) + delta, 0), 255)) })
  }
}

extension XorShift64 {
  mutating func int(_ range: ClosedRange<Int>) -> Int {
    range.lowerBound + Int(next() % UInt64(range.count))
  }

  mutating func unit() -> Double { Double(next() % 1_000_000) / 1_000_000 }
}
