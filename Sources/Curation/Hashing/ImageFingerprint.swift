import Digest
public import TroL

/// What ingest records about one image file: identity (sha256 of the bytes), size, format, and
/// the four perceptual hashes of its decoded pixels.
public struct ImageFingerprint: Sendable, Hashable {
  /// The file's format from its signature ("jpeg", "png", "webp", ...), lowercase.
  public var format: String
  /// Encoded size in bytes.
  public var bytes: Int
  public var width: Int
  public var height: Int
  /// Lowercase hex SHA-256 of the encoded bytes.
  public var sha256: String
  /// Lowercase hex SHA-256 of the decoded RGB8 pixels (identical pixels give identical hashes,
  /// whatever the container; lets JPEG decoder disagreements be told apart from hash bugs).
  /// Nil unless asked for: hashing 900 KB of pixels per 640x480 image costs ingest a quarter of
  /// its time, and ingest does not store it.
  public var pixelsSHA256: String?
  public var hashes: ImageHashes

  /// Decodes `data` with TroL's decoders (Pillow-compatible RGB8) and hashes it.
  ///
  /// - Throws: `TroLError` from the decoder (`.invalidImage`, `.imageTooLarge`,
  ///   `.unsupportedImageFormat`), whose message says what is wrong with the file.
  public init(data: [UInt8], decoder: ImageDecoder = ImageDecoder(), pixelsDigest: Bool = false)
    throws
  {
    let format = data.withUnsafeBytes { ImageFormat.sniff($0) }
    let rgb = try decoder.decode(data)
    self.format = format.map(Self.name(of:)) ?? "unknown"
    self.bytes = data.count
    self.width = rgb.width
    self.height = rgb.height
    self.sha256 = SHA256.hex(data)
    self.pixelsSHA256 = pixelsDigest ? SHA256.hex(rgb.pixels) : nil
    self.hashes = ImageHashes(grey: GreyImage(rgb: rgb))
  }

  /// The short lowercase name used in `dataset_item.format` and the `--formats` filter.
  public static func name(of format: ImageFormat) -> String {
    switch format {
    case .jpeg: "jpeg"
    case .png: "png"
    case .gif: "gif"
    case .bmp: "bmp"
    case .webp: "webp"
    case .tiff: "tiff"
    case .heif: "heif"
    case .avif: "avif"
    case .jpeg2000: "jp2"
    case .jpegXL: "jxl"
    case .ico: "ico"
    case .psd: "psd"
    case .pdf: "pdf"
    }
  }
}
