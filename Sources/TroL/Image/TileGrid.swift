/// A grid of tiles: `columns` tiles across, `rows` tiles down (TroL-3.8B's `(i, j)` ratio).
public struct TileGrid: Sendable, Hashable, CustomStringConvertible {
  /// Tiles across.
  public let columns: Int
  /// Tiles down.
  public let rows: Int

  /// - Parameters:
  ///   - columns: Tiles across, at least 1.
  ///   - rows: Tiles down, at least 1.
  public init(columns: Int, rows: Int) {
    precondition(
      columns > 0 && rows > 0, "a tile grid needs at least one tile, got \(columns)x\(rows)")
    self.columns = columns
    self.rows = rows
  }

  /// Number of tiles in the grid.
  public var count: Int { columns * rows }

  public var description: String { "\(columns)x\(rows)" }

  /// The grids `dynamic_preprocess` considers, in the order it walks them: every (i, j) with
  /// `minTiles ≤ i·j ≤ maxTiles`, in CPython set order, then stably sorted by i·j.
  ///
  /// For 1...6 that is (1,1), (1,2), (2,1), (3,1), (1,3), (4,1), (1,4), (2,2), (1,5), (5,1),
  /// (6,1), (2,3), (1,6), (3,2).
  ///
  /// - Parameters:
  ///   - minTiles: Fewest tiles, at least 1.
  ///   - maxTiles: Most tiles, at least `minTiles`.
  public static func candidates(minTiles: Int = 1, maxTiles: Int) -> [TileGrid] {
    precondition(minTiles >= 1 && maxTiles >= minTiles, "need 1 ≤ minTiles ≤ maxTiles")
    var generated: [(Int, Int)] = []
    for n in minTiles...maxTiles {
      for i in 1...n {
        for j in 1...n where i * j <= maxTiles && i * j >= minTiles {
          generated.append((i, j))
        }
      }
    }
    let ordered = PythonSetOrder.iterationOrder(of: generated).map {
      TileGrid(columns: $0.0, rows: $0.1)
    }
    // Swift's sort is not guaranteed stable; sort indices by (area, position) instead.
    return ordered.indices.sorted {
      (ordered[$0].count, $0) < (ordered[$1].count, $1)
    }.map { ordered[$0] }
  }

  /// The grid whose aspect ratio is closest to the image's (`find_closest_aspect_ratio`).
  ///
  /// Candidates are walked in order; a strictly smaller |W/H − i/j| wins; on an exact tie the
  /// later candidate wins only if W·H > 0.5·tileSize²·i·j (so a large near-square image gets 2×2
  /// rather than 1×1). All arithmetic is in double, as in Python.
  ///
  /// - Parameters:
  ///   - width: Image width in pixels.
  ///   - height: Image height in pixels.
  ///   - tileSize: Tile side in pixels (448 for TroL-3.8B).
  ///   - candidates: Grids in walking order, usually `candidates(maxTiles:)`.
  public static func closest(
    width: Int, height: Int, tileSize: Int, candidates: [TileGrid]
  ) -> TileGrid {
    let aspect = Double(width) / Double(height)
    let area = Double(width * height)
    var best = TileGrid(columns: 1, rows: 1)
    var bestDifference = Double.infinity
    for grid in candidates {
      let difference = abs(aspect - Double(grid.columns) / Double(grid.rows))
      if difference < bestDifference {
        bestDifference = difference
        best = grid
      } else if difference == bestDifference {
        if area > 0.5 * Double(tileSize) * Double(tileSize) * Double(grid.columns)
          * Double(grid.rows)
        {
          best = grid
        }
      }
    }
    return best
  }
}
