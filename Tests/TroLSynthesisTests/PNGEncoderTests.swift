import Testing
import TroL
import TroLSynthesis

@Suite struct PNGEncoderTests {
  @Test(arguments: [0, 1, 2, 3, 4, 5])
  func sampleImagesRoundTripThroughTheDecoder(index: Int) throws {
    let image = SampleImages.make(index: index, seed: 7)
    let decoded = try ImageDecoder().decode(PNGEncoder.encode(image))
    #expect(decoded == image)
  }

  @Test func samplesAreDeterministicAndVaried() {
    #expect(SampleImages.make(index: 3, seed: 1) == SampleImages.make(index: 3, seed: 1))
    #expect(SampleImages.make(index: 3, seed: 1) != SampleImages.make(index: 3, seed: 2))
    let sizes = Set(
      (0..<6).map {
        SampleImages.make(index: $0).width * 10_000 + SampleImages.make(index: $0).height
      })
    #expect(sizes.count == 6)
  }

  @Test func largeImagesSpanSeveralStoredBlocks() throws {
    // 200x200x3 + 200 filter bytes = 120,200 bytes: two stored deflate blocks.
    let pixels = (0..<(200 * 200 * 3)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
    let image = RGBImage(width: 200, height: 200, pixels: pixels)
    #expect(try ImageDecoder().decode(PNGEncoder.encode(image)) == image)
  }
}
