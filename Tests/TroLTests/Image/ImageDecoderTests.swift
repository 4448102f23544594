import Foundation
import Testing
import TroL
import TroLSynthesis
import TrolleyBasics

@Suite struct ImageDecoderTests {
  let decoder = ImageDecoder()

  // MARK: Reference images

  /// Decoding each fixture's image.png gives exactly the reference's `image_u8` (PIL + convert RGB).
  @Test(arguments: ImageFixtures.families)
  func fixtureImageMatchesReferencePixels(family: String) throws {
    let image = try decoder.decode(contentsOfFile: ImageFixtures.file(family, "image.png").path)
    let tensors = try ImageFixtures.tensors(family, "expected/tensors.safetensors")
    let expected = try #require(tensors["image_u8"])
    #expect(image.width == expected.shape[2] && image.height == expected.shape[1])
    #expect(image.planar == expected.uint8)
  }

  // MARK: PNG color types and depths, converted as PIL's convert("RGB") does

  struct PNGCase: CustomTestStringConvertible, Sendable {
    var name: String
    var width: Int
    var bitDepth: Int
    var colorType: Int
    var rows: [[UInt8]]
    var palette: [UInt8]? = nil
    var transparency: [UInt8]? = nil
    var expected: [UInt8]
    var testDescription: String { name }
  }

  static func grey(_ values: [UInt8]) -> [UInt8] { values.flatMap { [$0, $0, $0] } }

  static let pngCases: [PNGCase] = {
    var cases: [PNGCase] = []
    cases.append(
      PNGCase(
        name: "grey 1-bit scales to 0/255", width: 8, bitDepth: 1, colorType: 0,
        rows: [[0b1011_0000]],
        expected: grey([255, 0, 255, 255, 0, 0, 0, 0])))
    cases.append(
      PNGCase(
        name: "grey 2-bit scales by 85", width: 4, bitDepth: 2, colorType: 0,
        rows: [[0b00_01_10_11]],
        expected: grey([0, 85, 170, 255])))
    cases.append(
      PNGCase(
        name: "grey 4-bit scales by 17, two rows", width: 3, bitDepth: 4, colorType: 0,
        rows: [[0x0F, 0x70], [0x12, 0x30]], expected: grey([0, 255, 119, 17, 34, 51])))
    cases.append(
      PNGCase(
        name: "grey 8-bit", width: 3, bitDepth: 8, colorType: 0, rows: [[0, 77, 255]],
        expected: grey([0, 77, 255])))
    cases.append(
      PNGCase(
        name: "grey 16-bit is clipped at 255 (PIL I;16 to RGB)", width: 4, bitDepth: 16,
        colorType: 0,
        rows: [[0x00, 0x12, 0x00, 0xFF, 0x01, 0x00, 0xFF, 0xFF]],
        expected: grey([0x12, 255, 255, 255])))
    cases.append(
      PNGCase(
        name: "grey 8-bit with tRNS ignores it", width: 2, bitDepth: 8, colorType: 0,
        rows: [[9, 10]],
        transparency: [0, 9], expected: grey([9, 10])))
    cases.append(
      PNGCase(
        name: "grey+alpha 8-bit drops alpha", width: 2, bitDepth: 8, colorType: 4,
        rows: [[10, 0, 200, 255]], expected: grey([10, 200])))
    cases.append(
      PNGCase(
        name: "grey+alpha 16-bit keeps the high byte", width: 2, bitDepth: 16, colorType: 4,
        rows: [[0x12, 0x34, 0x00, 0x00, 0xAB, 0x00, 0xFF, 0xFF]], expected: grey([0x12, 0xAB])))
    cases.append(
      PNGCase(
        name: "RGB 8-bit", width: 2, bitDepth: 8, colorType: 2, rows: [[1, 2, 3, 250, 251, 252]],
        expected: [1, 2, 3, 250, 251, 252]))
    cases.append(
      PNGCase(
        name: "RGB 16-bit keeps the high bytes", width: 1, bitDepth: 16, colorType: 2,
        rows: [[0x12, 0x34, 0x56, 0x78, 0x9A, 0xBC]], expected: [0x12, 0x56, 0x9A]))
    cases.append(
      PNGCase(
        name: "RGBA 8-bit drops alpha without compositing", width: 2, bitDepth: 8, colorType: 6,
        rows: [[10, 20, 30, 0, 40, 50, 60, 128]], expected: [10, 20, 30, 40, 50, 60]))
    cases.append(
      PNGCase(
        name: "RGBA 16-bit keeps the high bytes", width: 1, bitDepth: 16, colorType: 6,
        rows: [[0xFE, 0x01, 0x80, 0xFF, 0x00, 0x7F, 0x00, 0x00]], expected: [0xFE, 0x80, 0x00]))
    cases.append(
      PNGCase(
        name: "palette 8-bit with tRNS", width: 3, bitDepth: 8, colorType: 3, rows: [[2, 0, 1]],
        palette: [255, 0, 0, 0, 255, 0, 0, 0, 255], transparency: [0, 128, 255],
        expected: [0, 0, 255, 255, 0, 0, 0, 255, 0]))
    cases.append(
      PNGCase(
        name: "palette 2-bit", width: 5, bitDepth: 2, colorType: 3,
        rows: [[0b11_10_01_00, 0b0100_0000]],
        palette: [1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4],
        expected: [4, 4, 4, 3, 3, 3, 2, 2, 2, 1, 1, 1, 2, 2, 2]))
    return cases
  }()

  @Test(arguments: pngCases)
  func decodesPNGVariant(_ png: PNGCase) throws {
    let file = TestPNG.encode(
      width: png.width, height: png.rows.count, bitDepth: png.bitDepth, colorType: png.colorType,
      rows: png.rows, palette: png.palette, transparency: png.transparency)
    let image = try decoder.decode(file)
    #expect(image.width == png.width && image.height == png.rows.count)
    #expect(image.pixels == png.expected)
  }

  @Test func decodesInterlacedPNG() throws {
    var random = SplitMix64(seed: 7)
    let pixels = (0..<(11 * 7 * 3)).map { _ in random.byte() }
    let image = try decoder.decode(
      TestPNG.encodeInterlacedRGB(width: 11, height: 7, pixels: pixels))
    #expect(image == RGBImage(width: 11, height: 7, pixels: pixels))
  }

  // MARK: JPEG

  static func gradient(width: Int, height: Int, components: Int, step: Int = 7) -> [UInt8] {
    var pixels: [UInt8] = []
    pixels.reserveCapacity(width * height * components)
    for y in 0..<height {
      for x in 0..<width {
        for c in 0..<components {
          pixels.append(UInt8((x * step + y * (step - 2) + c * 40) % 256))
        }
      }
    }
    return pixels
  }

  static func maxDifference(_ a: [UInt8], _ b: [UInt8]) -> Int {
    zip(a, b).map { abs(Int($0) - Int($1)) }.max() ?? 0
  }

  @Test func decodesRGBJPEGCloseToSource() throws {
    let source = Self.gradient(width: 24, height: 16, components: 3)
    let image = try decoder.decode(
      JPEGEncoder.encode(width: 24, height: 16, components: 3, pixels: source))
    #expect(image.width == 24 && image.height == 16)
    #expect(Self.maxDifference(image.pixels, source) <= 4)
  }

  @Test func decodesSubsampledJPEG() throws {
    let source = Self.gradient(width: 33, height: 17, components: 3, step: 3)
    let file = JPEGEncoder.encode(
      width: 33, height: 17, components: 3, pixels: source, quality: 95, subsampled: true)
    let image = try decoder.decode(file)
    #expect(image.width == 33 && image.height == 17)
    let meanDifference =
      zip(image.pixels, source).map { abs(Int($0) - Int($1)) }.reduce(0, +) / source.count
    #expect(meanDifference <= 6)
  }

  @Test func decodesGreyJPEGIntoEqualChannels() throws {
    let source = Self.gradient(width: 16, height: 9, components: 1)
    let image = try decoder.decode(
      JPEGEncoder.encode(width: 16, height: 9, components: 1, pixels: source))
    let reds = stride(from: 0, to: image.pixels.count, by: 3).map { image.pixels[$0] }
    let greens = stride(from: 1, to: image.pixels.count, by: 3).map { image.pixels[$0] }
    let blues = stride(from: 2, to: image.pixels.count, by: 3).map { image.pixels[$0] }
    #expect(reds == greens && greens == blues)
    #expect(Self.maxDifference(reds, source) <= 2)
  }

  /// Four-component JPEGs are read as inverted (Adobe) CMYK and converted with PIL's formula.
  @Test func decodesCMYKJPEGAsPillowDoes() throws {
    // Stored (inverted) CMYK: 255 = no ink. White, magenta, black (all ink), then half K.
    let colors: [[UInt8]] = [
      [255, 255, 255, 255], [255, 0, 255, 255], [0, 0, 0, 0], [255, 255, 255, 127],
    ]
    let expected: [[Int]] = [[255, 255, 255], [255, 0, 255], [0, 0, 0], [127, 127, 127]]
    for (color, rgb) in zip(colors, expected) {
      let source = [UInt8]((0..<64).flatMap { _ in color })
      let image = try decoder.decode(
        JPEGEncoder.encode(width: 8, height: 8, components: 4, pixels: source))
      let first = image.pixels.prefix(3).map(Int.init)
      #expect(zip(first, rgb).allSatisfy { abs($0 - $1) <= 2 }, "\(color) decoded as \(first)")
    }
  }

  // MARK: Malformed input: a clear error, never a crash

  func expectError(
    _ code: TroLError.Code, mentioning words: [String] = [], decoder: ImageDecoder? = nil,
    _ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation
  ) {
    let error = #expect(throws: TroLError.self, sourceLocation: sourceLocation) {
      try (decoder ?? self.decoder).decode(bytes)
    }
    #expect(error?.code == code, "\(String(describing: error))", sourceLocation: sourceLocation)
    for word in words {
      #expect(
        error?.message.contains(word) == true, "\(String(describing: error)) lacks \(word)",
        sourceLocation: sourceLocation)
    }
  }

  static let smallPNG = TestPNG.encode(
    width: 16, height: 16, bitDepth: 8, colorType: 2,
    rows: (0..<16).map { (y: Int) -> [UInt8] in
      (0..<48).map { (x: Int) -> UInt8 in UInt8((x + y) % 256) }
    })
  static let smallJPEG = JPEGEncoder.encode(
    width: 16, height: 16, components: 3, pixels: gradient(width: 16, height: 16, components: 3))

  @Test func emptyFileIsInvalid() {
    expectError(.invalidImage, mentioning: ["empty"], [])
  }

  @Test func randomBytesAreInvalid() {
    var random = SplitMix64(seed: 42)
    expectError(.invalidImage, mentioning: ["not an image"], (0..<1000).map { _ in random.byte() })
  }

  @Test(arguments: [8, 20, 33, 45, 60, 200, smallPNG.count - 30])
  func truncatedPNGIsInvalid(length: Int) {
    expectError(.invalidImage, Array(Self.smallPNG.prefix(length)))
  }

  @Test func pngWithBadHeaderChecksumIsInvalid() {
    var file = Self.smallPNG
    file[29] ^= 0xFF  // inside IHDR's CRC
    expectError(.invalidImage, file)
  }

  @Test func pngWithCorruptCompressedDataIsInvalid() {
    var file = Self.smallPNG
    // The zlib stream starts after signature (8) + IHDR (25) + IDAT length and type (8).
    file[41] = 0xFF
    file[42] = 0xFF
    expectError(.invalidImage, file)
  }

  /// A 100000x100000 header is rejected from the header, before any pixel memory is allocated.
  @Test func decompressionBombPNGIsTooLarge() {
    let file =
      TestPNG.signature
      + TestPNG.chunk(
        "IHDR", TestPNG.header(width: 100_000, height: 100_000, bitDepth: 8, colorType: 2))
      + TestPNG.chunk("IDAT", TestPNG.zlibStored([0, 0, 0, 0])) + TestPNG.chunk("IEND", [])
    expectError(.imageTooLarge, mentioning: ["100000x100000", "maxPixels"], file)
  }

  @Test func decompressionBombJPEGIsTooLarge() throws {
    var file = Self.smallJPEG
    let sof = try #require((0..<file.count - 9).first { file[$0] == 0xFF && file[$0 + 1] == 0xC0 })
    // SOF0: marker, length (2), precision (1), height (2), width (2).
    file[sof + 5] = 0xFD
    file[sof + 6] = 0xE8
    file[sof + 7] = 0xFD
    file[sof + 8] = 0xE8
    expectError(.imageTooLarge, mentioning: ["65000x65000"], file)
    // Past libjpeg's own 65500-pixel side limit.
    file[sof + 5] = 0xFF
    file[sof + 6] = 0xFF
    expectError(.imageTooLarge, mentioning: ["65500"], file)
  }

  @Test func decodesProgressiveJPEG() throws {
    let source = Self.gradient(width: 21, height: 13, components: 3)
    let file = JPEGEncoder.encode(
      width: 21, height: 13, components: 3, pixels: source, quality: 100, progressive: true)
    let image = try decoder.decode(file)
    #expect(Self.maxDifference(image.pixels, source) <= 4)
  }

  /// A progressive JPEG whose last scan is repeated 2000 times: tiny, but each scan re-reads the
  /// whole coefficient buffer. Rejected after 1000 scans.
  @Test func jpegWithThousandsOfScansIsRejected() throws {
    let file = JPEGEncoder.encode(
      width: 16, height: 16, components: 3,
      pixels: Self.gradient(width: 16, height: 16, components: 3), progressive: true)
    let lastScan = try #require(
      (0..<file.count - 1).last { file[$0] == 0xFF && file[$0 + 1] == 0xDA })
    let end = file.count - 2  // EOI
    let scan = Array(file[lastScan..<end])
    var bomb = Array(file[..<end])
    for _ in 0..<2000 { bomb += scan }
    bomb += [0xFF, 0xD9]
    expectError(.imageTooLarge, mentioning: ["scans"], bomb)
  }

  @Test(arguments: [3, 20, 100, 300, smallJPEG.count / 2, smallJPEG.count - 10])
  func truncatedJPEGIsInvalid(length: Int) {
    expectError(.invalidImage, Array(Self.smallJPEG.prefix(length)))
  }

  @Test func corruptJPEGIsInvalid() throws {
    var zeroWidth = Self.smallJPEG
    let sof = try #require(
      (0..<zeroWidth.count - 9).first { zeroWidth[$0] == 0xFF && zeroWidth[$0 + 1] == 0xC0 })
    zeroWidth[sof + 7] = 0
    zeroWidth[sof + 8] = 0
    expectError(.invalidImage, zeroWidth)

    var badTable = Self.smallJPEG
    let dqt = try #require(
      (0..<badTable.count - 5).first { badTable[$0] == 0xFF && badTable[$0 + 1] == 0xDB })
    badTable[dqt + 4] = 0x07  // quantization table index 7 does not exist
    expectError(.invalidImage, badTable)
  }

  @Test func twelveBitJPEGIsUnsupported() throws {
    var file = Self.smallJPEG
    let sof = try #require((0..<file.count - 9).first { file[$0] == 0xFF && file[$0 + 1] == 0xC0 })
    file[sof + 4] = 12
    expectError(.unsupportedImageFormat, mentioning: ["JPEG"], file)
  }

  /// Flipping any single byte of a small JPEG or PNG either still decodes or throws a TroLError.
  @Test func everySingleByteCorruptionIsHandled() {
    for (label, original) in [("JPEG", Self.smallJPEG), ("PNG", Self.smallPNG)] {
      let failures = decoder.rejectedSingleByteCorruptions(of: original, label: label)
      #expect(failures > 0)
    }
  }

  static let otherFormats: [(String, [UInt8])] = {
    let tiff: [UInt8] = [0x49, 0x49, 0x2A, 0x00, 8, 0, 0, 0]
    let heif: [UInt8] = [0, 0, 0, 24] + Array("ftypheic".utf8) + [UInt8](repeating: 0, count: 12)
    return [("TIFF", tiff), ("HEIF", heif)]
  }()

  @Test(arguments: otherFormats)
  func otherFormatsAreUnsupportedByName(name: String, bytes: [UInt8]) {
    expectError(.unsupportedImageFormat, mentioning: [name, "WebP, GIF and BMP"], bytes)
  }

  static let corruptHeaders: [(String, [UInt8])] = {
    let gif: [UInt8] = Array("GIF89a".utf8) + [UInt8](repeating: 0, count: 20)
    let bmp: [UInt8] = Array("BM".utf8) + [UInt8](repeating: 0, count: 40)
    let webp: [UInt8] = Array("RIFF".utf8) + [0, 0, 0, 0] + Array("WEBPVP8 ".utf8)
    return [("GIF", gif), ("BMP", bmp), ("WebP", webp)]
  }()

  /// Signatures followed by garbage are decoded as that format and rejected as corrupt.
  @Test(arguments: corruptHeaders)
  func corruptWebPGIFAndBMPAreInvalid(name: String, bytes: [UInt8]) {
    expectError(.invalidImage, mentioning: [name], bytes)
  }

  @Test func byteLimitIsEnforced() {
    let small = ImageDecoder(limits: .init(maxBytes: 100))
    expectError(.imageTooLarge, mentioning: ["maxBytes"], decoder: small, Self.smallJPEG)
  }

  @Test func pixelLimitIsEnforcedForBothFormats() {
    let small = ImageDecoder(limits: .init(maxPixels: 255))
    expectError(.imageTooLarge, mentioning: ["16x16"], decoder: small, Self.smallJPEG)
    expectError(.imageTooLarge, mentioning: ["16x16"], decoder: small, Self.smallPNG)
    #expect(throws: Never.self) {
      try ImageDecoder(limits: .init(maxPixels: 256)).decode(Self.smallPNG)
    }
  }

  @Test func missingFileIsAnIOError() {
    let error = #expect(throws: TroLError.self) {
      try decoder.decode(contentsOfFile: "/nonexistent/trolley-image-test.png")
    }
    #expect(error?.code == .io)
  }

  @Test func oversizedFileIsRejectedBeforeReading() throws {
    let url = FileManager.default.temporaryDirectory
      .appendingPathComponent("trolley-image-\(UUID().uuidString).jpg")
    try Data(Self.smallJPEG).write(to: url)
    defer { try? FileManager.default.removeItem(at: url) }
    let error = #expect(throws: TroLError.self) {
      try ImageDecoder(limits: .init(maxBytes: 64)).decode(contentsOfFile: url.path)
    }
    #expect(error?.code == .imageTooLarge)
    #expect(try decoder.decode(contentsOfFile: url.path).width == 16)
  }
}

extension SplitMix64 {
  /// A seeded byte, so "random" test inputs are reproducible.
  mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: next()) }
}
