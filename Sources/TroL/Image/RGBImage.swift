/// An 8-bit RGB image: rows top to bottom, pixels left to right, channels interleaved (HWC).
///
/// Pixel (x, y) channel c is `pixels[(y * width + x) * 3 + c]`. This is the layout decoders
/// produce and PIL works in; PyTorch's CHW layout is available through `planar`.
public struct RGBImage: Sendable, Hashable {
  /// Columns, at least 1.
  public let width: Int
  /// Rows, at least 1.
  public let height: Int
  /// `width * height * 3` bytes, HWC.
  public let pixels: [UInt8]

  /// Wraps interleaved RGB bytes.
  ///
  /// - Parameters:
  ///   - width: Columns, at least 1.
  ///   - height: Rows, at least 1.
  ///   - pixels: Exactly `width * height * 3` bytes, HWC. A wrong count is a programmer error.
  public init(width: Int, height: Int, pixels: [UInt8]) {
    precondition(width > 0 && height > 0, "RGBImage needs a positive size, got \(width)x\(height)")
    precondition(
      pixels.count == width * height * 3,
      "RGBImage \(width)x\(height) needs \(width * height * 3) bytes, got \(pixels.count)")
    self.width = width
    self.height = height
    self.pixels = pixels
  }

  /// Builds an image from planar CHW bytes (the layout of a PyTorch uint8 image tensor).
  ///
  /// - Parameters:
  ///   - width: Columns, at least 1.
  ///   - height: Rows, at least 1.
  ///   - planar: Exactly `3 * height * width` bytes: the red plane, then green, then blue.
  public init(width: Int, height: Int, planar: [UInt8]) {
    precondition(width > 0 && height > 0, "RGBImage needs a positive size, got \(width)x\(height)")
    let plane = width * height
    precondition(
      planar.count == plane * 3,
      "planar \(width)x\(height) needs \(plane * 3) bytes, got \(planar.count)")
    var interleaved = [UInt8](repeating: 0, count: plane * 3)
    for i in 0..<plane {
      interleaved[i * 3] = planar[i]
      interleaved[i * 3 + 1] = planar[plane + i]
      interleaved[i * 3 + 2] = planar[2 * plane + i]
    }
    self.init(width: width, height: height, pixels: interleaved)
  }

  /// The pixels as planar CHW bytes (red plane, green plane, blue plane).
  public var planar: [UInt8] {
    let plane = width * height
    var result = [UInt8](repeating: 0, count: plane * 3)
    for i in 0..<plane {
      result[i] = pixels[i * 3]
      result[plane + i] = pixels[i * 3 + 1]
      result[2 * plane + i] = pixels[i * 3 + 2]
    }
    return result
  }

  /// The `width`×`height` region whose top-left pixel is (x, y), like PIL's `crop((x, y, x+w, y+h))`
  /// for a box inside the image. A box outside the image is a programmer error.
  public func cropped(x: Int, y: Int, width: Int, height: Int) -> RGBImage {
    precondition(
      x >= 0 && y >= 0 && width > 0 && height > 0 && x + width <= self.width
        && y + height <= self.height,
      "crop (\(x), \(y), \(width)x\(height)) is outside a \(self.width)x\(self.height) image")
    var result = [UInt8](repeating: 0, count: width * height * 3)
    let rowBytes = width * 3
    for row in 0..<height {
      let source = ((y + row) * self.width + x) * 3
      result.replaceSubrange(
        row * rowBytes..<(row + 1) * rowBytes, with: pixels[source..<source + rowBytes])
    }
    return RGBImage(width: width, height: height, pixels: result)
  }
}
