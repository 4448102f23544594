public import TroL
internal import TrolleyBasics

/// Deterministic synthetic pictures (a gradient background with a few coloured shapes) for demos,
/// smoke tests and benchmarks, where no real photo collection is at hand.
public enum SampleImages {
  /// The `index`-th sample image for `seed`: sizes vary (landscape, portrait, square) so that both
  /// families' resizing and tiling paths are exercised.
  public static func make(index: Int, seed: UInt64 = 0) -> RGBImage {
    var random = SplitMix64(
      seed: seed &+ UInt64(truncatingIfNeeded: index) &* 0x9E37_79B9_7F4A_7C15)
    let sizes = [(320, 240), (240, 320), (400, 400), (640, 360), (256, 256), (500, 300)]
    let (width, height) = sizes[index % sizes.count]
    var pixels = [UInt8](repeating: 0, count: width * height * 3)
    let base = (0..<3).map { _ in Int(random.next() % 200) }
    for y in 0..<height {
      for x in 0..<width {
        let p = (y * width + x) * 3
        pixels[p] = UInt8(clamping: base[0] + x * 55 / width)
        pixels[p + 1] = UInt8(clamping: base[1] + y * 55 / height)
        pixels[p + 2] = UInt8(clamping: base[2] + (x + y) * 30 / (width + height))
      }
    }
    for shape in 0..<(2 + Int(random.next() % 3)) {
      let colour = (0..<3).map { _ in UInt8(truncatingIfNeeded: random.next()) }
      let cx = Int(random.next() % UInt64(width))
      let cy = Int(random.next() % UInt64(height))
      let r = 12 + Int(random.next() % UInt64(max(13, min(width, height) / 4)))
      for y in max(0, cy - r)..<min(height, cy + r) {
        for x in max(0, cx - r)..<min(width, cx + r) {
          let inside = shape % 2 == 0 ? (x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r : true
          guard inside else { continue }
          let p = (y * width + x) * 3
          pixels[p] = colour[0]
          pixels[p + 1] = colour[1]
          pixels[p + 2] = colour[2]
        }
      }
    }
    return RGBImage(width: width, height: height, pixels: pixels)
  }
}
