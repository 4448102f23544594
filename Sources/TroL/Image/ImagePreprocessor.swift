/// Turns a decoded image into the float32 pixel tiles one model family's vision encoder takes.
///
/// * `internLM2(imageSize:)` (TroL-1.8B/7B, docs/model.md, "Vision towers"): stretch to S×S with
///   PyTorch's uint8 bicubic, then CLIP normalization; always one tile.
/// * `phi3(tileSize:maxTiles:)` (TroL-3.8B, the same section): pick the tile grid closest to the
///   aspect ratio, resize to it with PIL bicubic, cut the tiles row-major, add a thumbnail of the whole
///   image last when there is more than one tile, then ImageNet normalization.
public struct ImagePreprocessor: Sendable, Hashable {
  /// How the image becomes uint8 tiles.
  public enum Layout: Sendable, Hashable {
    /// One `size`×`size` tile: the whole image stretched with `TorchBicubic`.
    case stretched(size: Int)
    /// `dynamic_preprocess`: a grid of `tileSize` tiles chosen among `minTiles...maxTiles`, resized
    /// with `PILBicubic`, plus a thumbnail when the grid has more than one tile and
    /// `thumbnail` is true.
    case dynamicTiles(tileSize: Int, minTiles: Int, maxTiles: Int, thumbnail: Bool)
  }

  /// How tiles are cut.
  public let layout: Layout
  /// How tile pixels become floats.
  public let normalization: PixelNormalization

  /// - Parameters:
  ///   - layout: How the image becomes tiles.
  ///   - normalization: How tile pixels become floats.
  public init(layout: Layout, normalization: PixelNormalization) {
    switch layout {
    case .stretched(let size):
      precondition(size > 0, "image size must be positive")
    case .dynamicTiles(let tileSize, let minTiles, let maxTiles, _):
      precondition(tileSize > 0, "tile size must be positive")
      precondition(minTiles >= 1 && maxTiles >= minTiles, "need 1 ≤ minTiles ≤ maxTiles")
    }
    self.layout = layout
    self.normalization = normalization
  }

  /// TroL-1.8B/7B: torch bicubic to `imageSize`² then CLIP normalization.
  ///
  /// - Parameter imageSize: The encoder's input side: 490 for the released models (`img_size`
  ///   in the fixtures' config.json).
  public static func internLM2(imageSize: Int = 490) -> ImagePreprocessor {
    ImagePreprocessor(layout: .stretched(size: imageSize), normalization: .clip)
  }

  /// TroL-3.8B: dynamic tiling with a thumbnail, PIL bicubic, ImageNet normalization.
  ///
  /// - Parameters:
  ///   - tileSize: Tile side: 448 for the released model (the InternViT `image_size`).
  ///   - maxTiles: Most grid tiles: 6 (`max_dynamic_patch`); the thumbnail comes on top.
  public static func phi3(tileSize: Int = 448, maxTiles: Int = 6) -> ImagePreprocessor {
    ImagePreprocessor(
      layout: .dynamicTiles(tileSize: tileSize, minTiles: 1, maxTiles: maxTiles, thumbnail: true),
      normalization: .imageNet)
  }

  /// Side of every tile this preprocessor produces.
  public var tileSize: Int {
    switch layout {
    case .stretched(let size): size
    case .dynamicTiles(let tileSize, _, _, _): tileSize
    }
  }

  /// The grid this preprocessor picks for an image of the given size (1×1 when stretching).
  public func grid(width: Int, height: Int) -> TileGrid {
    switch layout {
    case .stretched:
      return TileGrid(columns: 1, rows: 1)
    case .dynamicTiles(let tileSize, let minTiles, let maxTiles, _):
      return TileGrid.closest(
        width: width, height: height, tileSize: tileSize,
        candidates: TileGrid.candidates(minTiles: minTiles, maxTiles: maxTiles))
    }
  }

  /// How many tiles (thumbnail included) an image of this size becomes: what the prompt needs to
  /// reserve image tokens for before the pixels are computed.
  public func tileCount(width: Int, height: Int) -> Int {
    switch layout {
    case .stretched:
      return 1
    case .dynamicTiles(_, _, _, let thumbnail):
      let count = grid(width: width, height: height).count
      return count + (thumbnail && count > 1 ? 1 : 0)
    }
  }

  /// The uint8 tiles, in the order the encoder sees them (grid row-major, thumbnail last).
  public func tiles(for image: RGBImage) -> [RGBImage] {
    switch layout {
    case .stretched(let size):
      return [TorchBicubic.resize(image, width: size, height: size)]
    case .dynamicTiles(let size, _, _, let thumbnail):
      let grid = grid(width: image.width, height: image.height)
      let resized = PILBicubic.resize(image, width: size * grid.columns, height: size * grid.rows)
      var tiles: [RGBImage] = []
      tiles.reserveCapacity(grid.count + 1)
      for k in 0..<grid.count {
        let column = k % grid.columns
        let row = k / grid.columns
        tiles.append(resized.cropped(x: column * size, y: row * size, width: size, height: size))
      }
      if thumbnail && grid.count > 1 {
        tiles.append(PILBicubic.resize(image, width: size, height: size))
      }
      return tiles
    }
  }

  /// The normalized float32 tiles for an image.
  ///
  /// - Parameter image: The decoded image.
  /// - Returns: `tileCount` tiles of [3, S, S] floats, ready for the vision encoder.
  public func pixels(for image: RGBImage) -> PreprocessedImage {
    let tiles = tiles(for: image)
    let size = tileSize
    let perTile = 3 * size * size
    let values = [Float](unsafeUninitializedCapacity: tiles.count * perTile) { buffer, count in
      for (index, tile) in tiles.enumerated() {
        normalization.normalize(
          tile,
          into: UnsafeMutableBufferPointer(
            rebasing: buffer[index * perTile..<(index + 1) * perTile]))
      }
      count = tiles.count * perTile
    }
    let grid = grid(width: image.width, height: image.height)
    return PreprocessedImage(
      tileSize: size, grid: grid, hasThumbnail: tiles.count > grid.count, pixels: values)
  }
}
