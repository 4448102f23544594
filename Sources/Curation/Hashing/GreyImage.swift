public import TroL

/// An 8-bit single-channel image, row-major: Pillow's mode "L".
public struct GreyImage: Sendable, Hashable {
  /// Columns, at least 1.
  public let width: Int
  /// Rows, at least 1.
  public let height: Int
  /// `width * height` bytes, rows top to bottom.
  public let pixels: [UInt8]

  /// Wraps grey bytes; a wrong count is a programmer error.
  public init(width: Int, height: Int, pixels: [UInt8]) {
    precondition(width > 0 && height > 0, "GreyImage needs a positive size, got \(width)x\(height)")
    precondition(
      pixels.count == width * height,
      "GreyImage \(width)x\(height) needs \(width * height) bytes, got \(pixels.count)")
    self.width = width
    self.height = height
    self.pixels = pixels
  }

  /// Pillow's `convert("L")` from RGB (libImaging/Convert.c, Pillow 7 and later):
  /// L = (19595 R + 38470 G + 7471 B + 0x8000) >> 16.
  ///
  /// The weights sum to 65536, so a grey pixel (R = G = B) maps to itself: grey, palette, alpha
  /// and 16-bit PNGs decoded to RGB the way Pillow converts them give the same L as Pillow's
  /// direct conversions from those modes.
  public init(rgb: RGBImage) {
    let count = rgb.width * rgb.height
    var grey = [UInt8](repeating: 0, count: count)
    rgb.pixels.withUnsafeBufferPointer { source in
      grey.withUnsafeMutableBufferPointer { out in
        for i in 0..<count {
          let r = UInt32(source[i * 3])
          let g = UInt32(source[i * 3 + 1])
          let b = UInt32(source[i * 3 + 2])
          out[i] = UInt8(truncatingIfNeeded: (19595 * r + 38470 * g + 7471 * b + 0x8000) >> 16)
        }
      }
    }
    self.init(width: rgb.width, height: rgb.height, pixels: grey)
  }
}
