import CJPEG
import Foundation
import TroL

/// Deterministic test images and their variants, so no binaries are committed.
enum TestImages {
  /// A small xorshift generator: the same seed gives the same images everywhere.
  struct Random {
    var state: UInt64
    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }
    mutating func next() -> UInt64 {
      state ^= state << 13
      state ^= state >> 7
      state ^= state << 17
      return state
    }
    mutating func int(_ range: ClosedRange<Int>) -> Int {
      range.lowerBound + Int(next() % UInt64(range.count))
    }
    mutating func unit() -> Double { Double(next() % 1_000_000) / 1_000_000 }
  }

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

  /// Baseline 4:2:0 JPEG at `quality` (libjpeg's defaults otherwise).
  static func jpeg(_ image: RGBImage, quality: Int32) -> [UInt8] {
    let info = UnsafeMutablePointer<jpeg_compress_struct>.allocate(capacity: 1)
    let errors = UnsafeMutablePointer<jpeg_error_mgr>.allocate(capacity: 1)
    let buffer = UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>.allocate(capacity: 1)
    let size = UnsafeMutablePointer<UInt>.allocate(capacity: 1)
    defer {
      info.deallocate()
      errors.deallocate()
      buffer.deallocate()
      size.deallocate()
    }
    info.initialize(to: jpeg_compress_struct())
    errors.initialize(to: jpeg_error_mgr())
    buffer.initialize(to: nil)
    size.initialize(to: 0)
    info.pointee.err = jpeg_std_error(errors)
    jpeg_CreateCompress(info, JPEG_LIB_VERSION, MemoryLayout<jpeg_compress_struct>.size)
    jpeg_mem_dest(info, buffer, size)
    info.pointee.image_width = JDIMENSION(image.width)
    info.pointee.image_height = JDIMENSION(image.height)
    info.pointee.input_components = 3
    info.pointee.in_color_space = JCS_RGB
    jpeg_set_defaults(info)
    jpeg_set_quality(info, quality, 1)
    jpeg_start_compress(info, 1)
    var row = [UInt8](repeating: 0, count: image.width * 3)
    while info.pointee.next_scanline < info.pointee.image_height {
      let y = Int(info.pointee.next_scanline)
      row.replaceSubrange(
        0..<row.count, with: image.pixels[y * image.width * 3..<(y + 1) * image.width * 3])
      row.withUnsafeMutableBufferPointer { rowBuffer in
        var rowPointer: JSAMPROW? = rowBuffer.baseAddress
        _ = jpeg_write_scanlines(info, &rowPointer, 1)
      }
    }
    jpeg_finish_compress(info)
    jpeg_destroy_compress(info)
    let result = [UInt8](UnsafeBufferPointer(start: buffer.pointee, count: Int(size.pointee)))
    free(buffer.pointee)
    return result
  }
}
