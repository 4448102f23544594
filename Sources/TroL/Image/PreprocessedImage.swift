/// An image ready for a vision encoder: `tileCount` tiles of [3, S, S] float32, CHW, in order.
public struct PreprocessedImage: Sendable, Hashable {
  /// S, the side of every tile.
  public let tileSize: Int
  /// The grid the tiles were cut from (1×1 for TroL-1.8B/7B).
  public let grid: TileGrid
  /// Whether a thumbnail of the whole image follows the grid tiles.
  public let hasThumbnail: Bool
  /// `tileCount * 3 * tileSize * tileSize` floats: tile-major, then channel (R, G, B), row, column.
  public let pixels: [Float]

  /// - Parameters:
  ///   - tileSize: S.
  ///   - grid: The grid tiles come first, row-major.
  ///   - hasThumbnail: Whether one more tile, the thumbnail, follows them.
  ///   - pixels: `tileCount * 3 * S * S` floats.
  public init(tileSize: Int, grid: TileGrid, hasThumbnail: Bool, pixels: [Float]) {
    let tiles = grid.count + (hasThumbnail ? 1 : 0)
    precondition(
      pixels.count == tiles * 3 * tileSize * tileSize,
      "\(tiles) tiles of \(tileSize)² need \(tiles * 3 * tileSize * tileSize) floats, got \(pixels.count)"
    )
    self.tileSize = tileSize
    self.grid = grid
    self.hasThumbnail = hasThumbnail
    self.pixels = pixels
  }

  /// Number of tiles: the grid's, plus one for the thumbnail.
  public var tileCount: Int { grid.count + (hasThumbnail ? 1 : 0) }

  /// Floats per tile: 3·S·S.
  public var valuesPerTile: Int { 3 * tileSize * tileSize }

  /// The floats of tile `index` ([3, S, S]).
  public func tile(_ index: Int) -> ArraySlice<Float> {
    precondition(index >= 0 && index < tileCount, "tile \(index) of \(tileCount)")
    return pixels[index * valuesPerTile..<(index + 1) * valuesPerTile]
  }
}
