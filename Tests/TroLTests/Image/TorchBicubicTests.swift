import Testing
import TroL

@Suite struct TorchBicubicTests {
  struct Case: CustomTestStringConvertible, Sendable {
    var family: String
    var index: Int
    var testDescription: String { "\(family) torch_bicubic_u8.\(index)" }
  }

  static let cases = ImageFixtures.families.flatMap { family in
    (0..<3).map { Case(family: family, index: $0) }
  }

  /// Every torch resize golden (upsampling with border clamping, plain downsampling, mixed) is
  /// matched exactly: the integer kernel is reproduced, no ±1 tolerance is needed.
  @Test(arguments: cases)
  func matchesGolden(_ golden: Case) throws {
    try ImageFixtures.expectResizeMatchesGolden(
      golden.family, "torch_bicubic_u8.\(golden.index)", planar: true
    ) { TorchBicubic.resize($0, width: $1, height: $2) }
  }

  /// The fixture's own image, as TroL-1.8B/7B resize it (80x60 to 56x56).
  @Test func fixtureImageMatchesResizedGolden() throws {
    let tensors = try ImageFixtures.tensors("internlm2", "expected/tensors.safetensors")
    let original = try #require(tensors["image_u8"])
    let expected = try #require(tensors["image_resized_u8"])
    let image = RGBImage(
      width: original.shape[2], height: original.shape[1], planar: original.uint8)
    let resized = TorchBicubic.resize(image, width: 56, height: 56)
    #expect(resized.planar == expected.uint8)
  }

  @Test func sameSizeIsIdentity() {
    let image = RGBImage(width: 3, height: 2, pixels: (0..<18).map { UInt8($0 * 13) })
    #expect(TorchBicubic.resize(image, width: 3, height: 2) == image)
  }

  /// A constant image stays constant: the weights of every output sum to exactly 2^precision.
  @Test(arguments: [(1, 1, 490, 490), (7, 3, 2, 5), (600, 400, 490, 490)])
  func constantImageStaysConstant(_ sizes: (Int, Int, Int, Int)) {
    let image = ImageFixtures.constantImage(width: sizes.0, height: sizes.1, [200, 7, 255])
    let resized = TorchBicubic.resize(image, width: sizes.2, height: sizes.3)
    #expect(resized.width == sizes.2 && resized.height == sizes.3)
    for i in 0..<sizes.2 * sizes.3 {
      guard resized.pixels[i * 3] == 200, resized.pixels[i * 3 + 1] == 7,
        resized.pixels[i * 3 + 2] == 255
      else {
        Issue.record("pixel \(i) changed")
        return
      }
    }
  }
}
