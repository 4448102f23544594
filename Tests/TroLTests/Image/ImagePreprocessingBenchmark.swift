import Foundation
import Testing
import TroL
import TroLSynthesis
import TrolleyBasics

#if canImport(Glibc)
  import Glibc
#endif

/// Throughput of the image path on a 12-megapixel photo-sized input (4032x3024, JPEG q90 4:2:0):
/// decode, each family's preprocessing, and the resize kernels alone. Opt-in because it measures
/// rather than checks: `TROLLEY_IMAGE_BENCH=1 swift test --filter ImagePreprocessingBenchmark`.
/// Figures go to docs/benchmarks.md ("Image preprocessing").
@Suite(.enabled(if: ProcessInfo.processInfo.environment["TROLLEY_IMAGE_BENCH"] == "1"))
struct ImagePreprocessingBenchmark {
  static func photo(width: Int, height: Int) -> [UInt8] {
    var random = SplitMix64(seed: 1)
    var pixels = [UInt8](repeating: 0, count: width * height * 3)
    for y in 0..<height {
      for x in 0..<width {
        let i = (y * width + x) * 3
        let noise = Int(random.byte() % 16)
        pixels[i] = UInt8((x * 255 / width + noise) % 256)
        pixels[i + 1] = UInt8((y * 255 / height + noise) % 256)
        pixels[i + 2] = UInt8(((x + y) * 127 / (width + height) + 64 + noise) % 256)
      }
    }
    return pixels
  }

  /// CPU time of the calling thread, in milliseconds. The build machine is shared, so wall time
  /// mostly measures other people's compilers; thread CPU time does not.
  static func threadCPUMilliseconds() -> Double { CPUClock.thread() * 1e3 }

  /// Median thread CPU time of `runs` calls, in milliseconds.
  static func measure(runs: Int, _ body: () throws -> Void) rethrows -> Double {
    var times: [Double] = []
    for _ in 0..<runs {
      let start = threadCPUMilliseconds()
      try body()
      times.append(threadCPUMilliseconds() - start)
    }
    return times.sorted()[runs / 2]
  }

  @Test func photoSizedImage() throws {
    let width = 4032
    let height = 3024
    let pixels = Self.photo(width: width, height: height)
    let jpeg = JPEGEncoder.encode(
      width: width, height: height, components: 3, pixels: pixels, quality: 90, subsampled: true)
    let decoder = ImageDecoder()
    let image = try decoder.decode(jpeg)
    #expect(image.width == width && image.height == height)
    let internLM2 = ImagePreprocessor.internLM2()
    let phi3 = ImagePreprocessor.phi3()
    let runs = 5

    var lines: [String] = []
    func report(_ name: String, _ milliseconds: Double) {
      lines.append("| \(name) | \(String(format: "%.1f", milliseconds)) |")
    }
    report(
      "decode JPEG 4032x3024 (\(jpeg.count / 1024) KiB)",
      try Self.measure(runs: runs) { _ = try decoder.decode(jpeg) })
    report(
      "TorchBicubic 4032x3024 → 490x490",
      Self.measure(runs: runs) { _ = TorchBicubic.resize(image, width: 490, height: 490) })
    report(
      "PILBicubic 4032x3024 → 1344x896 (3x2 grid)",
      Self.measure(runs: runs) { _ = PILBicubic.resize(image, width: 1344, height: 896) })
    report(
      "PILBicubic 4032x3024 → 448x448 (thumbnail)",
      Self.measure(runs: runs) { _ = PILBicubic.resize(image, width: 448, height: 448) })
    report(
      "internLM2 preprocess (resize + CLIP normalize)",
      Self.measure(runs: runs) { _ = internLM2.pixels(for: image) })
    report(
      "phi3 preprocess (3x2 grid + thumbnail = 7 tiles, normalize)",
      Self.measure(runs: runs) { _ = phi3.pixels(for: image) })
    print((["| step | median thread CPU ms |", "|---|---:|"] + lines).joined(separator: "\n"))
  }
}
