/// An image file format, recognized from the file's first bytes (never from its name).
public enum ImageFormat: String, Sendable, Hashable, CaseIterable {
  case jpeg = "JPEG"
  case png = "PNG"
  case gif = "GIF"
  case bmp = "BMP"
  case webp = "WebP"
  case tiff = "TIFF"
  case heif = "HEIF"
  case avif = "AVIF"
  case jpeg2000 = "JPEG 2000"
  case jpegXL = "JPEG XL"
  case ico = "ICO"
  case psd = "PSD"
  case pdf = "PDF"

  /// Whether `ImageDecoder` decodes this format.
  public var isDecodable: Bool { Self.decodable.contains(self) }

  /// The formats `ImageDecoder` decodes (GIF and animated WebP: the first frame).
  public static let decodable: [ImageFormat] = [.jpeg, .png, .webp, .gif, .bmp]

  /// "JPEG, PNG, WebP, GIF and BMP", for messages.
  public static var decodableList: String {
    let names = decodable.map(\.rawValue)
    return names.dropLast().joined(separator: ", ") + " and " + (names.last ?? "")
  }

  /// Recognizes a format from its signature.
  ///
  /// - Parameter bytes: The start of a file (the first 16 bytes are enough).
  /// - Returns: The format, or nil when no known signature matches.
  public static func sniff(_ bytes: UnsafeRawBufferPointer) -> ImageFormat? {
    func starts(with prefix: [UInt8], at offset: Int = 0) -> Bool {
      guard bytes.count >= offset + prefix.count else { return false }
      for (i, byte) in prefix.enumerated() where bytes[offset + i] != byte { return false }
      return true
    }
    func ascii(_ text: String) -> [UInt8] { Array(text.utf8) }

    if starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
    if starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
    if starts(with: ascii("GIF87a")) || starts(with: ascii("GIF89a")) { return .gif }
    if starts(with: ascii("RIFF")) && starts(with: ascii("WEBP"), at: 8) { return .webp }
    if starts(with: [0x49, 0x49, 0x2A, 0x00]) || starts(with: [0x4D, 0x4D, 0x00, 0x2A]) {
      return .tiff
    }
    if starts(with: ascii("ftyp"), at: 4) {
      if starts(with: ascii("avif"), at: 8) || starts(with: ascii("avis"), at: 8) { return .avif }
      for brand in ["heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1"]
      where starts(with: ascii(brand), at: 8) {
        return .heif
      }
    }
    if starts(with: [0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20])
      || starts(with: [0xFF, 0x4F, 0xFF, 0x51])
    {
      return .jpeg2000
    }
    if starts(with: [0xFF, 0x0A]) || starts(with: [0x00, 0x00, 0x00, 0x0C, 0x4A, 0x58, 0x4C, 0x20])
    {
      return .jpegXL
    }
    if starts(with: ascii("8BPS")) { return .psd }
    if starts(with: ascii("%PDF-")) { return .pdf }
    if starts(with: ascii("BM")) && bytes.count >= 26 { return .bmp }
    if starts(with: [0x00, 0x00, 0x01, 0x00]) && bytes.count >= 22 { return .ico }
    return nil
  }
}
