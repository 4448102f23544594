internal import CImageCodecs
import Foundation
import TrolleyBasics

/// Decodes JPEG, PNG, WebP, GIF (first frame) and BMP files to RGB8 the way the reference does (`PIL.Image.open(f).convert("RGB")`),
/// within limits on bytes and pixels so that a hostile file cannot exhaust memory.
///
/// EXIF orientation and ICC profiles are not applied: `Image.open` does not apply them and TroL
/// never calls `exif_transpose`, so the model saw the stored pixel grid.
///
/// The format comes from the file's signature, never its name. Every failure is a `TroLError`:
/// `.invalidImage` (empty, truncated, corrupt, or not an image), `.imageTooLarge` (over a limit; the
/// pixel limit is checked against the header before any pixel memory is allocated), or
/// `.unsupportedImageFormat` (a recognized format it does not decode, such as TIFF or HEIF).
/// Other modules (the curation tools) decode through this type too, so every format means the
/// same pixels everywhere.
public struct ImageDecoder: Sendable {
  /// Upper bounds on what a decoder accepts.
  public struct Limits: Sendable, Hashable {
    /// Largest encoded size accepted, in bytes. Default 64 MiB.
    public var maxBytes: Int
    /// Largest width × height accepted, as declared by the header. Default 100,000,000
    /// (a 12,000×8,000 photo fits; decoding it takes 300 MB of RGB8).
    public var maxPixels: Int

    /// - Parameters:
    ///   - maxBytes: Largest encoded size, in bytes; must be positive.
    ///   - maxPixels: Largest width × height; must be positive.
    public init(maxBytes: Int = 64 << 20, maxPixels: Int = 100_000_000) {
      precondition(maxBytes > 0 && maxPixels > 0, "image limits must be positive")
      self.maxBytes = maxBytes
      self.maxPixels = maxPixels
    }

    /// 64 MiB and 100 megapixels.
    public static let `default` = Limits()
  }

  /// The limits this decoder enforces.
  public let limits: Limits

  /// - Parameter limits: Bounds on bytes and pixels; `.default` unless given.
  public init(limits: Limits = .default) {
    self.limits = limits
  }

  /// Decodes an encoded image held in memory.
  ///
  /// - Parameter bytes: The whole file.
  /// - Returns: The image as RGB8, alpha dropped without compositing (as PIL's `convert("RGB")`).
  /// - Throws: `TroLError` with code `.invalidImage`, `.imageTooLarge` or `.unsupportedImageFormat`.
  public func decode(_ bytes: [UInt8]) throws -> RGBImage {
    try bytes.withUnsafeBytes { try decode($0) }
  }

  /// Decodes an encoded image held in memory.
  ///
  /// - Parameter bytes: The whole file.
  /// - Returns: The image as RGB8.
  /// - Throws: `TroLError` with code `.invalidImage`, `.imageTooLarge` or `.unsupportedImageFormat`.
  public func decode(_ bytes: UnsafeRawBufferPointer) throws -> RGBImage {
    guard !bytes.isEmpty else {
      throw TroLError(.invalidImage, "the image is empty (0 bytes)")
    }
    guard bytes.count <= limits.maxBytes else {
      throw TroLError(
        .imageTooLarge,
        "the image is \(bytes.count) bytes, over the limit of \(limits.maxBytes) bytes; "
          + "raise ImageDecoder.Limits.maxBytes to accept it")
    }
    guard let format = ImageFormat.sniff(bytes) else {
      // The bytes themselves are never echoed: the "image" may be a file a job should not see.
      throw TroLError(
        .invalidImage,
        "not an image: the \(bytes.count) bytes start with no known image signature "
          + "(\(ImageFormat.decodableList) are decoded)")
    }
    guard format.isDecodable else {
      throw TroLError(
        .unsupportedImageFormat,
        "\(format.rawValue) images are not supported; convert the image to PNG or JPEG "
          + "(\(ImageFormat.decodableList) are decoded)")
    }

    guard let start = bytes.baseAddress else {
      throw TroLError(.invalidImage, "the image is empty (0 bytes)")
    }
    let base = start.assumingMemoryBound(to: UInt8.self)
    var result = trl_image_result()
    let status =
      switch format {
      case .jpeg: trl_decode_jpeg(base, bytes.count, UInt64(limits.maxPixels), &result)
      case .webp: trl_decode_webp(base, bytes.count, UInt64(limits.maxPixels), &result)
      case .gif: trl_decode_gif(base, bytes.count, UInt64(limits.maxPixels), &result)
      case .bmp: trl_decode_bmp(base, bytes.count, UInt64(limits.maxPixels), &result)
      default: trl_decode_png(base, bytes.count, UInt64(limits.maxPixels), &result)
      }
    defer { trl_image_free(result.pixels) }
    let message = withUnsafeBytes(of: &result.message) { raw in
      String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
    }
    let width = Int(result.width)
    let height = Int(result.height)

    switch status {
    case TRL_IMAGE_OK:
      guard let pixels = result.pixels, width > 0, height > 0 else {
        throw TroLError(.invalidImage, "the \(format.rawValue) decoder returned an empty image")
      }
      let count = width * height * 3
      let copy = [UInt8](UnsafeBufferPointer(start: pixels, count: count))
      return RGBImage(width: width, height: height, pixels: copy)
    case TRL_IMAGE_TOO_LARGE:
      let size =
        width > 0 && height > 0 ? "\(width)x\(height) (\(width * height) pixels)" : "too large"
      throw TroLError(
        .imageTooLarge,
        "the \(format.rawValue) image is \(size), over the limit of \(limits.maxPixels) pixels; "
          + "raise ImageDecoder.Limits.maxPixels to accept it")
    case TRL_IMAGE_OVER_LIMIT:
      throw TroLError(
        .imageTooLarge, "the \(format.rawValue) image exceeds a decoder limit: \(message)")
    case TRL_IMAGE_UNSUPPORTED:
      throw TroLError(
        .unsupportedImageFormat, "this \(format.rawValue) variant is not supported: \(message)")
    case TRL_IMAGE_NO_MEMORY:
      throw TroLError(
        .imageTooLarge, "not enough memory to decode the \(format.rawValue) image (\(message))")
    default:
      throw TroLError(
        .invalidImage, "the \(format.rawValue) image is truncated or corrupt: \(message)")
    }
  }

  /// Reads and decodes an image file.
  ///
  /// The file size is checked before the file is read.
  ///
  /// - Parameter path: The file's path.
  /// - Returns: The image as RGB8.
  /// - Throws: `TroLError` with code `.io` when the file cannot be read, otherwise as `decode(_:)`.
  public func decode(contentsOfFile path: String) throws -> RGBImage {
    let handle: FileHandle
    do {
      handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
    } catch {
      throw TroLError(.io, "cannot open image file \(path): \(error.localizedDescription)")
    }
    defer { try? handle.close() }
    let data: Data
    do {
      let size = try handle.seekToEnd()
      guard size <= UInt64(limits.maxBytes) else {
        throw TroLError(
          .imageTooLarge,
          "image file \(path) is \(size) bytes, over the limit of \(limits.maxBytes) bytes; "
            + "raise ImageDecoder.Limits.maxBytes to accept it")
      }
      try handle.seek(toOffset: 0)
      // One byte more than allowed, so a file that grew after the size check is still caught.
      data = try handle.read(upToCount: limits.maxBytes + 1) ?? Data()
    } catch let error as TroLError {
      throw error
    } catch {
      throw TroLError(.io, "cannot read image file \(path): \(error.localizedDescription)")
    }
    do {
      return try data.withUnsafeBytes { try decode($0) }
    } catch let error as TroLError {
      throw TroLError(error.code, "\(path): \(error.message)")
    }
  }
}
