internal import CJPEG
internal import Foundation
public import TroL

/// Baseline JPEG encoding with libjpeg's defaults (4:2:0), for benchmarks and synthetic sets.
public enum JPEGWriter {
  /// - Parameter quality: 1...100.
  public static func encode(_ image: RGBImage, quality: Int = 90) -> [UInt8] {
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
    jpeg_set_quality(info, Int32(min(max(quality, 1), 100)), 1)
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
