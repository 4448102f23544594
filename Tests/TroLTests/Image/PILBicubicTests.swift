import Testing
import TroL

@Suite struct PILBicubicTests {
  struct Case: CustomTestStringConvertible, Sendable {
    var family: String
    var name: String
    var testDescription: String { "\(family) \(name)" }
  }

  static let cases =
    ImageFixtures.families.flatMap { family in
      (0..<4).map { Case(family: family, name: "pil_bicubic.\($0)") }
    }

  /// Every PIL resize golden (downscale with widened support, upscale, mixed, 30→28) is exact.
  @Test(arguments: cases)
  func matchesGolden(_ golden: Case) throws {
    try ImageFixtures.expectResizeMatchesGolden(golden.family, golden.name, planar: false) {
      PILBicubic.resize($0, width: $1, height: $2)
    }
  }

  /// The two resizes `dynamic_preprocess` applies to the Phi-3 fixture image: the 2x1 grid
  /// (150x70 → 112x56) and the thumbnail (→ 56x56).
  @Test func tilingResizesMatchGoldens() throws {
    let tensors = try ImageFixtures.tensors("phi3", "expected/ops.safetensors")
    let input = try #require(tensors["pil_tiling.input"])
    let grid = try #require(tensors["pil_tiling.grid_output"])
    let thumbnail = try #require(tensors["pil_tiling.thumbnail_output"])
    let image = RGBImage(width: input.shape[1], height: input.shape[0], pixels: input.uint8)
    #expect(PILBicubic.resize(image, width: 112, height: 56).pixels == grid.uint8)
    #expect(PILBicubic.resize(image, width: 56, height: 56).pixels == thumbnail.uint8)
  }

  @Test(arguments: [(1, 1, 448, 448), (5, 9, 3, 2), (4000, 3, 448, 448)])
  func constantImageStaysConstant(_ sizes: (Int, Int, Int, Int)) {
    let image = ImageFixtures.constantImage(width: sizes.0, height: sizes.1, [0, 128, 255])
    let resized = PILBicubic.resize(image, width: sizes.2, height: sizes.3)
    #expect(resized.width == sizes.2 && resized.height == sizes.3)
    #expect(
      resized.pixels == [UInt8]((0..<sizes.2 * sizes.3).flatMap { _ in [0, 128, 255] as [UInt8] }))
  }
}
