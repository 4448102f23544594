import Testing
import TroL

@Suite struct TileGridTests {
  static func grids(_ pairs: [(Int, Int)]) -> [TileGrid] {
    pairs.map { TileGrid(columns: $0.0, rows: $0.1) }
  }

  /// The walking order of the official `dynamic_preprocess` (docs/model.md, "Vision towers"; CPython set order, then a stable sort by area).
  @Test func candidatesForSixTilesFollowTheReferenceOrder() {
    #expect(
      TileGrid.candidates(maxTiles: 6)
        == Self.grids([
          (1, 1), (1, 2), (2, 1), (3, 1), (1, 3), (4, 1), (1, 4), (2, 2), (1, 5), (5, 1), (6, 1),
          (2, 3), (1, 6), (3, 2),
        ]))
  }

  /// Other ranges, with the order printed by CPython 3.11.7 for
  /// `sorted(set(...), key=lambda x: x[0] * x[1])` as dynamic_preprocess builds it.
  @Test func candidatesForOtherRangesFollowCPython() {
    #expect(
      TileGrid.candidates(minTiles: 1, maxTiles: 12)
        == Self.grids([
          (1, 1), (1, 2), (2, 1), (3, 1), (1, 3), (2, 2), (4, 1), (1, 4), (5, 1), (1, 5), (1, 6),
          (6, 1), (3, 2), (2, 3), (7, 1), (1, 7), (4, 2), (2, 4), (1, 8), (8, 1), (1, 9), (3, 3),
          (9, 1), (2, 5), (5, 2), (10, 1), (1, 10), (11, 1), (1, 11), (12, 1), (3, 4), (4, 3),
          (1, 12), (6, 2), (2, 6),
        ]))
    #expect(
      TileGrid.candidates(minTiles: 2, maxTiles: 9)
        == Self.grids([
          (1, 2), (2, 1), (3, 1), (1, 3), (2, 2), (4, 1), (1, 4), (5, 1), (1, 5), (1, 6), (6, 1),
          (3, 2), (2, 3), (7, 1), (1, 7), (4, 2), (2, 4), (1, 8), (8, 1), (1, 9), (3, 3), (9, 1),
        ]))
  }

  struct Choice: CustomTestStringConvertible, Sendable {
    var width: Int
    var height: Int
    var tileSize: Int
    var expected: (Int, Int)
    var why: String
    var testDescription: String { "\(width)x\(height) @\(tileSize): \(why)" }
  }

  /// Expected grids printed by the reference's `find_closest_aspect_ratio` (CPython 3.11.7).
  static let choices: [Choice] = [
    Choice(width: 150, height: 70, tileSize: 56, expected: (2, 1), why: "the Phi-3 fixture"),
    Choice(
      width: 448, height: 448, tileSize: 448, expected: (1, 1),
      why: "square, small: 1x1 kept on the tie"),
    Choice(
      width: 900, height: 900, tileSize: 448, expected: (2, 2),
      why: "square, large: tie goes to 2x2"),
    Choice(
      width: 634, height: 633, tileSize: 448, expected: (1, 1), why: "not exactly square: no tie"),
    Choice(
      width: 500, height: 400, tileSize: 448, expected: (1, 1),
      why: "1.25 ties 1 and 3/2, small area"),
    Choice(
      width: 1000, height: 800, tileSize: 448, expected: (3, 2),
      why: "1.25 ties 1 and 3/2, large area"),
    Choice(
      width: 700, height: 400, tileSize: 448, expected: (2, 1),
      why: "1.75 ties 2 and 3/2, small area"),
    Choice(
      width: 1400, height: 800, tileSize: 448, expected: (3, 2),
      why: "1.75 ties 2 and 3/2, large area"),
    Choice(
      width: 300, height: 400, tileSize: 448, expected: (2, 3),
      why: "0.75: 2/3 is closer than 1/2 or 1"),
    Choice(width: 4000, height: 500, tileSize: 448, expected: (6, 1), why: "very wide"),
    Choice(width: 1, height: 1000, tileSize: 448, expected: (1, 6), why: "very tall"),
    Choice(width: 1, height: 1, tileSize: 448, expected: (1, 1), why: "one pixel"),
  ]

  @Test(arguments: choices)
  func choosesTheReferenceGrid(_ choice: Choice) {
    let grid = TileGrid.closest(
      width: choice.width, height: choice.height, tileSize: choice.tileSize,
      candidates: TileGrid.candidates(maxTiles: 6))
    #expect(grid == TileGrid(columns: choice.expected.0, rows: choice.expected.1))
  }
}
