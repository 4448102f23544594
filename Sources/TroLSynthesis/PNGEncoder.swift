public import TroL

/// Writes an `RGBImage` as an 8-bit RGB PNG.
///
/// The image data uses uncompressed ("stored") deflate blocks: files are larger than a
/// compressing encoder's, but the code is small, exact and has no failure paths, which is what
/// sample images and test inputs need.
public enum PNGEncoder {
  /// The PNG file bytes for `image`.
  public static func encode(_ image: RGBImage) -> [UInt8] {
    var scanlines: [UInt8] = []
    scanlines.reserveCapacity(image.height * (image.width * 3 + 1))
    let stride = image.width * 3
    for y in 0..<image.height {
      scanlines.append(0)  // filter type None
      scanlines.append(contentsOf: image.pixels[(y * stride)..<((y + 1) * stride)])
    }
    var file: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    var header: [UInt8] = []
    header.appendBigEndian(UInt32(image.width))
    header.appendBigEndian(UInt32(image.height))
    header += [8, 2, 0, 0, 0]  // 8-bit, truecolour, deflate, adaptive filtering, no interlace
    appendChunk("IHDR", header, to: &file)
    appendChunk("IDAT", zlibStored(scanlines), to: &file)
    appendChunk("IEND", [], to: &file)
    return file
  }

  private static func appendChunk(_ type: String, _ data: [UInt8], to file: inout [UInt8]) {
    file.appendBigEndian(UInt32(data.count))
    let typeAndData = Array(type.utf8) + data
    file += typeAndData
    let crc = typeAndData.withUnsafeBytes { CRC32.checksum($0) }
    file.appendBigEndian(crc)
  }

  /// A zlib stream of stored deflate blocks (at most 65,535 bytes each) with its Adler-32 (also
  /// the image data of the tests' hand-built PNGs).
  public static func zlibStored(_ data: [UInt8]) -> [UInt8] {
    var out: [UInt8] = [0x78, 0x01]
    var offset = 0
    repeat {
      let length = min(65_535, data.count - offset)
      let isLast = offset + length == data.count
      out.append(isLast ? 1 : 0)
      out += [
        UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF),
        UInt8((~length >> 8) & 0xFF),
      ]
      out += data[offset..<(offset + length)]
      offset += length
    } while offset < data.count
    var a: UInt32 = 1
    var b: UInt32 = 0
    for byte in data {
      a = (a + UInt32(byte)) % 65_521
      b = (b + a) % 65_521
    }
    out.appendBigEndian((b << 16) | a)
    return out
  }
}

extension Array where Element == UInt8 {
  fileprivate mutating func appendBigEndian(_ value: UInt32) {
    append(contentsOf: [
      UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF),
      UInt8(value & 0xFF),
    ])
  }
}
