import Foundation
import Testing
import TroL

@Suite struct ImagePreprocessorTests {
  static func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
    zip(a, b).map { abs($0 - $1) }.max() ?? .infinity
  }

  /// TroL-1.8B/7B: image.png → torch bicubic 56x56 → CLIP; within 1e-6 of the reference.
  @Test func internLM2PixelValuesMatchReference() throws {
    let tensors = try ImageFixtures.tensors("internlm2", "expected/tensors.safetensors")
    let expected = try #require(tensors["pixel_values"])
    #expect(expected.shape == [1, 3, 56, 56])
    let image = try ImageDecoder().decode(
      contentsOfFile: ImageFixtures.file("internlm2", "image.png").path)
    let config = try ModelConfig.load(
      path: ImageFixtures.file("internlm2", "model/config.json").path)
    let preprocessor = ImagePreprocessor(for: config)
    #expect(preprocessor == .internLM2(imageSize: 56))
    let result = preprocessor.pixels(for: image)
    #expect(result.tileCount == 1 && result.tileSize == 56 && !result.hasThumbnail)
    #expect(result.pixels.count == expected.float32.count)
    let difference = Self.maxDifference(result.pixels, expected.float32)
    #expect(difference <= 1e-6, "max |difference| \(difference)")
  }

  /// TroL-3.8B: image.png (150x70) → grid 2x1 + thumbnail → ImageNet; tiles equal `tiles_u8`
  /// and the floats are within 1e-6 of `pixel_values`.
  @Test func phi3TilesAndPixelValuesMatchReference() throws {
    let tensors = try ImageFixtures.tensors("phi3", "expected/tensors.safetensors")
    let expected = try #require(tensors["pixel_values"])
    let expectedTiles = try #require(tensors["tiles_u8"])
    let imageInfo = try #require(
      try ImageFixtures.json("phi3", "expected/expected.json")["image"] as? [String: Any])
    let tileSize = try #require(imageInfo["tile_size"] as? Int)
    let grid = try #require(imageInfo["grid_cols_rows"] as? [Int])
    let tileCount = try #require(imageInfo["num_tiles"] as? Int)

    let image = try ImageDecoder().decode(
      contentsOfFile: ImageFixtures.file("phi3", "image.png").path)
    let config = try ModelConfig.load(path: ImageFixtures.file("phi3", "model/config.json").path)
    let preprocessor = ImagePreprocessor(for: config)
    #expect(preprocessor == .phi3(tileSize: tileSize, maxTiles: 6))
    #expect(preprocessor.tileCount(width: image.width, height: image.height) == tileCount)
    let tiles = preprocessor.tiles(for: image)
    #expect(tiles.count == tileCount)
    #expect(tiles.flatMap(\.planar) == expectedTiles.uint8)

    let result = preprocessor.pixels(for: image)
    #expect(result.grid == TileGrid(columns: grid[0], rows: grid[1]))
    #expect(
      result.tileCount == tileCount && result.hasThumbnail == (imageInfo["thumbnail"] as? Bool))
    #expect(expected.shape == [tileCount, 3, tileSize, tileSize])
    let difference = Self.maxDifference(result.pixels, expected.float32)
    #expect(difference <= 1e-6, "max |difference| \(difference)")
    #expect(
      Array(result.tile(2))
        == Array(expected.float32[2 * result.valuesPerTile..<3 * result.valuesPerTile]))
  }

  @Test func singleTileGridHasNoThumbnail() {
    let image = RGBImage(width: 60, height: 50, pixels: [UInt8](repeating: 90, count: 60 * 50 * 3))
    let result = ImagePreprocessor.phi3(tileSize: 56).pixels(for: image)
    #expect(result.grid == TileGrid(columns: 1, rows: 1))
    #expect(result.tileCount == 1 && !result.hasThumbnail)
    #expect(ImagePreprocessor.phi3(tileSize: 56).tileCount(width: 60, height: 50) == 1)
    #expect(ImagePreprocessor.phi3().tileCount(width: 900, height: 900) == 5)
    #expect(ImagePreprocessor.internLM2().tileCount(width: 4000, height: 100) == 1)
    #expect(result.pixels.count == 3 * 56 * 56)
  }

  @Test func normalizationUsesEachFamilysConstants() {
    let image = RGBImage(width: 1, height: 1, pixels: [255, 0, 128])
    let clip = PixelNormalization.clip.normalize(image)
    #expect(
      clip[0] == (Float(255) - Float(255) * Float(0.48145466)) / (Float(255) * Float(0.26862954)))
    let imageNet = PixelNormalization.imageNet.normalize(image)
    #expect(imageNet[1] == (Float(0) / 255 - Float(0.456)) / Float(0.224))
    #expect(imageNet[2] == (Float(128) / 255 - Float(0.406)) / Float(0.225))
  }
}
