internal import CJPEG
internal import Foundation
public import TroL

/// Writes JPEG files with libjpeg, for sample sets, ingest benchmarks and decoder tests (so no
/// JPEG binaries are committed).
public enum JPEGEncoder {
  /// A baseline JPEG of `image` with libjpeg's defaults (4:2:0 chroma).
  /// - Parameter quality: 1...100 (clamped).
  public static func encode(_ image: RGBImage, quality: Int = 90) -> [UInt8] {
    encode(
      width: image.width, height: image.height, components: 3, pixels: image.pixels,
      quality: quality, subsampled: true)
  }

  /// A JPEG of raw interleaved pixels.
  /// - Parameters:
  ///   - components: 1 (grey), 3 (RGB) or 4 (CMYK, written with libjpeg's Adobe marker).
  ///   - pixels: width * height * components bytes, interleaved.
  ///   - quality: 1...100 (clamped).
  ///   - subsampled: 4:2:0 chroma (libjpeg's default) instead of 4:4:4.
  ///   - progressive: libjpeg's standard progressive scan script instead of one baseline scan.
  public static func encode(
    width: Int, height: Int, components: Int, pixels: [UInt8], quality: Int = 100,
    subsampled: Bool = false, progressive: Bool = false
  ) -> [UInt8] {
    precondition(
      pixels.count == width * height * components,
      "JPEGEncoder: \(pixels.count) bytes for \(width)x\(height)x\(components)")
    // libjpeg keeps pointers to these for the whole compression, so they live on the heap.
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
    info.pointee.image_width = JDIMENSION(width)
    info.pointee.image_height = JDIMENSION(height)
    info.pointee.input_components = Int32(components)
    info.pointee.in_color_space =
      switch components {
      case 1: JCS_GRAYSCALE
      case 4: JCS_CMYK
      default: JCS_RGB
      }
    jpeg_set_defaults(info)
    jpeg_set_quality(info, Int32(min(max(quality, 1), 100)), 1)
    if !subsampled {
      info.pointee.comp_info[0].h_samp_factor = 1
      info.pointee.comp_info[0].v_samp_factor = 1
    }
    if progressive { jpeg_simple_progression(info) }
    jpeg_start_compress(info, 1)
    var row = [UInt8](repeating: 0, count: width * components)
    while info.pointee.next_scanline < info.pointee.image_height {
      let y = Int(info.pointee.next_scanline)
      row.replaceSubrange(
        0..<row.count, with: pixels[y * width * components..<(y + 1) * width * components])
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
