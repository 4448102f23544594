import Testing
import TrolleyBasics

@testable import TroL

@Suite struct ResampleKernelTests {
  struct Sizes: CustomTestStringConvertible, Sendable {
    var inWidth: Int
    var inHeight: Int
    var outWidth: Int
    var outHeight: Int
    var testDescription: String { "\(inWidth)x\(inHeight) → \(outWidth)x\(outHeight)" }
  }

  static let sizes: [Sizes] = [
    Sizes(inWidth: 1, inHeight: 1, outWidth: 7, outHeight: 5),
    Sizes(inWidth: 2, inHeight: 3, outWidth: 1, outHeight: 1),
    Sizes(inWidth: 97, inHeight: 61, outWidth: 23, outHeight: 29),
    Sizes(inWidth: 13, inHeight: 9, outWidth: 56, outHeight: 56),
    Sizes(inWidth: 300, inHeight: 20, outWidth: 31, outHeight: 77),
    Sizes(inWidth: 45, inHeight: 45, outWidth: 45, outHeight: 12),
    Sizes(inWidth: 50, inHeight: 8, outWidth: 17, outHeight: 8),
  ]

  static func randomImage(width: Int, height: Int, seed: UInt64) -> RGBImage {
    var random = SplitMix64(seed: seed)
    return RGBImage(
      width: width, height: height, pixels: (0..<width * height * 3).map { _ in random.byte() })
  }

  /// The optimized passes (SIMD lanes, raw pointers, rows narrowed to what the vertical pass
  /// reads) equal the plain reference for both kernels, upscaling, downscaling and one-axis cases.
  @Test(arguments: sizes)
  func optimizedPassesMatchNaiveReference(_ size: Sizes) {
    let image = Self.randomImage(
      width: size.inWidth, height: size.inHeight, seed: UInt64(size.inWidth))
    let kernels: [(String, (Int, Int) -> ResampleKernel)] = [
      ("torch", { TorchBicubic.kernel(inputSize: $0, outputSize: $1) }),
      ("pil", { PILBicubic.kernel(inputSize: $0, outputSize: $1) }),
    ]
    for (name, make) in kernels {
      let horizontal = size.outWidth == size.inWidth ? nil : make(size.inWidth, size.outWidth)
      let vertical = size.outHeight == size.inHeight ? nil : make(size.inHeight, size.outHeight)
      let fast = ResampleKernel.resample(image, horizontal: horizontal, vertical: vertical)
      let naive = ResampleKernel.resampleNaive(image, horizontal: horizontal, vertical: vertical)
      #expect(fast == naive, "\(name) \(size.testDescription)")
    }
  }
}
