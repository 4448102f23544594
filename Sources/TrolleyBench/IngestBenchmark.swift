internal import Curation
internal import Foundation
public import TroL
internal import TrolleyBasics

/// `trolley bench ingest`: images per second on one thread for what a curate.ingest job does to
/// each image in memory (decode, sha256, the four hashes), on synthetic 640x480 photos-like
/// images (smooth gradients, edges and noise), encoded once before timing.
public enum IngestBenchmark {
  public struct Result: Sendable, Codable {
    public var format: String
    public var images: Int
    /// Wall-clock seconds.
    public var seconds: Double
    /// CPU seconds of the timing thread (what one core spent, whatever else shares the machine).
    public var cpuSeconds: Double
    /// Images per wall-clock second.
    public var imagesPerSecond: Double
    /// Images per CPU second of one core.
    public var imagesPerCPUSecond: Double

    enum CodingKeys: String, SnakeCaseCodingKey {
      case format, images, seconds, cpuSeconds, imagesPerSecond, imagesPerCPUSecond
    }
  }

  /// A deterministic 640x480-like test picture.
  public static func picture(seed: UInt64, width: Int, height: Int) -> RGBImage {
    var random = XorShift64(seed: seed)
    func next() -> Int { Int(random.next() % 256) }
    let base = (0..<6).map { _ in next() }
    var pixels = [UInt8](repeating: 0, count: width * height * 3)
    for y in 0..<height {
      for x in 0..<width {
        for c in 0..<3 {
          let gradient = (base[c] * x / width + base[3 + c] * y / height) / 2
          let edge = (x / 40 + y / 40) % 2 == 0 ? 40 : 0
          pixels[(y * width + x) * 3 + c] = UInt8(min(255, gradient + edge + next() % 16))
        }
      }
    }
    return RGBImage(width: width, height: height, pixels: pixels)
  }

  /// Encodes `count` distinct pictures with `encode` (named `format` in the result), then times
  /// fingerprinting them all on the calling thread.
  public static func run(
    format: String, count: Int, width: Int = 640, height: Int = 480,
    encode: (RGBImage) -> [UInt8]
  ) throws -> Result {
    let files = (0..<count).map { i -> [UInt8] in
      encode(picture(seed: UInt64(i + 1), width: width, height: height))
    }
    let decoder = ImageDecoder()
    let cpuStart = threadCPUSeconds()
    let start = ContinuousClock.now
    var checksum: UInt64 = 0
    for file in files {
      checksum ^= try ImageFingerprint(data: file, decoder: decoder).hashes.phash
    }
    let elapsed = ContinuousClock.now - start
    let cpu = threadCPUSeconds() - cpuStart
    let seconds =
      Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    _ = checksum
    return Result(
      format: format, images: count, seconds: seconds, cpuSeconds: cpu,
      imagesPerSecond: Double(count) / max(seconds, 1e-9),
      imagesPerCPUSecond: Double(count) / max(cpu, 1e-9))
  }

  /// CPU time of the calling thread.
  static func threadCPUSeconds() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
  }
}
