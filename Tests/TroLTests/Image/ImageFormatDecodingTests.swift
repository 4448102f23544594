import Foundation
import TestFixtures
import Testing
import TroL
import TrolleyBasics

/// WebP, GIF and BMP decode to exactly the pixels Pillow's `convert("RGB")` gives (the golden
/// `.rgb` files in Tests/Fixtures/image-formats), so a picture in any of them is answered like the
/// same picture as PNG.
@Suite struct ImageFormatDecodingTests {
  let decoder = ImageDecoder()

  static func fixture(_ name: String) throws -> [UInt8] {
    let path = TestFixtures.imageFormats + "/" + name
    guard let data = FileManager.default.contents(atPath: path) else {
      throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: path])
    }
    return [UInt8](data)
  }

  static let files = [
    "picture.png", "picture-lossless.webp", "picture-lossy.webp", "picture.gif",
    "picture-24.bmp", "picture-8.bmp", "picture-32.bmp", "animated.gif", "animated.webp",
  ]

  @Test(arguments: files)
  func decodesLikePillow(file: String) throws {
    let image = try decoder.decode(try Self.fixture(file))
    #expect(image.width == 40 && image.height == 30)
    let golden = try Self.fixture(file + ".rgb")
    #expect(image.pixels == golden, "\(file) differs from Pillow's pixels")
  }

  /// The lossless encodings (and the first frame of both animations) are the PNG's pixels.
  @Test(arguments: [
    "picture-lossless.webp", "picture.gif", "picture-24.bmp", "picture-8.bmp", "picture-32.bmp",
    "animated.gif", "animated.webp",
  ])
  func losslessFormatsEqualThePNG(file: String) throws {
    let png = try decoder.decode(try Self.fixture("picture.png"))
    let other = try decoder.decode(try Self.fixture(file))
    #expect(other.pixels == png.pixels)
  }

  /// A top-down BMP (negative height) holds its rows first to last.
  @Test func topDownBMP() throws {
    var bmp = try Self.fixture("picture-24.bmp")
    let offset = Int(bmp[10]) | Int(bmp[11]) << 8
    let stride = (24 * 40 + 31) / 32 * 4
    var rows: [[UInt8]] = (0..<30).map {
      Array(bmp[(offset + $0 * stride)..<(offset + ($0 + 1) * stride)])
    }
    rows.reverse()
    bmp.replaceSubrange(offset..<(offset + 30 * stride), with: rows.flatMap { $0 })
    let negative = UInt32(bitPattern: -30)
    for i in 0..<4 { bmp[22 + i] = UInt8(truncatingIfNeeded: negative >> (8 * UInt32(i))) }
    let image = try decoder.decode(bmp)
    #expect(image.pixels == (try decoder.decode(try Self.fixture("picture.png"))).pixels)
  }

  @Test func truncatedFilesAreInvalid() throws {
    for file in ["picture-lossless.webp", "picture.gif", "picture-24.bmp"] {
      let bytes = try Self.fixture(file)
      #expect(throws: TroLError.self) { try decoder.decode(Array(bytes.prefix(bytes.count / 2))) }
    }
  }

  @Test func pixelLimitIsCheckedForEveryFormat() throws {
    let small = ImageDecoder(limits: .init(maxPixels: 40 * 30 - 1))
    for file in ["picture-lossless.webp", "picture.gif", "picture-24.bmp"] {
      let error = #expect(throws: TroLError.self) { try small.decode(try Self.fixture(file)) }
      #expect(error?.code == .imageTooLarge, "\(file): \(String(describing: error))")
    }
  }

  /// A run-length-encoded BMP is a real but unsupported variant, and says what to do.
  @Test func rleBMPIsUnsupported() throws {
    var bmp = try Self.fixture("picture-8.bmp")
    bmp[30] = 1  // BI_RLE8
    let error = #expect(throws: TroLError.self) { try decoder.decode(bmp) }
    #expect(error?.code == .unsupportedImageFormat)
    #expect(error?.message.contains("PNG") == true)
  }

  /// Flipping any byte of each file either still decodes or throws a TroLError (no crash).
  @Test func everySingleByteCorruptionIsHandled() throws {
    for file in ["picture-lossless.webp", "picture-lossy.webp", "picture.gif", "picture-8.bmp"] {
      _ = decoder.rejectedSingleByteCorruptions(of: try Self.fixture(file), label: file)
    }
  }
}
