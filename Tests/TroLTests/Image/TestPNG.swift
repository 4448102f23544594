import TroLSynthesis

/// Writes PNG files byte by byte (stored deflate blocks, real CRCs), so tests can build every
/// color type, bit depth and malformation without committing binaries.
enum TestPNG {
  static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

  /// A PNG of raw scanlines (without filter bytes), each already packed at `bitDepth`.
  static func encode(
    width: Int, height: Int, bitDepth: Int, colorType: Int, rows: [[UInt8]],
    palette: [UInt8]? = nil, transparency: [UInt8]? = nil
  ) -> [UInt8] {
    var raw: [UInt8] = []
    for row in rows {
      raw.append(0)
      raw += row
    }
    var file = signature
    file += chunk(
      "IHDR", header(width: width, height: height, bitDepth: bitDepth, colorType: colorType))
    if let palette { file += chunk("PLTE", palette) }
    if let transparency { file += chunk("tRNS", transparency) }
    file += chunk("IDAT", zlibStored(raw))
    file += chunk("IEND", [])
    return file
  }

  /// An Adam7-interlaced 8-bit RGB PNG of `pixels` (HWC).
  static func encodeInterlacedRGB(width: Int, height: Int, pixels: [UInt8]) -> [UInt8] {
    let passes = [
      (0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
      (0, 1, 1, 2),
    ]
    var raw: [UInt8] = []
    for (x0, y0, dx, dy) in passes {
      guard x0 < width, y0 < height else { continue }
      for y in stride(from: y0, to: height, by: dy) {
        raw.append(0)
        for x in stride(from: x0, to: width, by: dx) {
          raw += pixels[(y * width + x) * 3..<(y * width + x) * 3 + 3]
        }
      }
    }
    var ihdr = header(width: width, height: height, bitDepth: 8, colorType: 2)
    ihdr[12] = 1
    return signature + chunk("IHDR", ihdr) + chunk("IDAT", zlibStored(raw)) + chunk("IEND", [])
  }

  static func header(width: Int, height: Int, bitDepth: Int, colorType: Int) -> [UInt8] {
    bigEndian(UInt32(width)) + bigEndian(UInt32(height)) + [
      UInt8(bitDepth), UInt8(colorType), 0, 0, 0,
    ]
  }

  static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
    let body = Array(type.utf8) + data
    return bigEndian(UInt32(data.count)) + body + bigEndian(crc32(body))
  }

  static func zlibStored(_ data: [UInt8]) -> [UInt8] { PNGEncoder.zlibStored(data) }

  static func crc32(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
      crc ^= UInt32(byte)
      for _ in 0..<8 {
        crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1
      }
    }
    return ~crc
  }

  static func bigEndian(_ value: UInt32) -> [UInt8] {
    [
      UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF),
      UInt8(value & 0xFF),
    ]
  }
}
