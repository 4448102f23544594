public import Foundation
public import TroL
internal import TrolleyBasics

/// A generated image set whose duplicate groups are known, for measuring dedupe (issue 15): each
/// original is written with a byte copy, a resize by 0.5x-2x, a JPEG re-encode at quality 70-95
/// and a brightness shift of 2-12 either way. Deterministic: the same count writes the same
/// files, and a larger count starts with the smaller one's groups, so the in-process pipeline
/// test and the end-to-end test with killed workers can share one set.
public enum DuplicateSet {
  /// One written file and the original it derives from.
  public struct Member: Sendable, Equatable {
    /// The file's standardized path.
    public var path: String
    /// The original's index: files with the same group are duplicates of each other.
    public var group: Int
  }

  /// Writes `originals` groups of five files into `folder` (which must exist).
  /// - Throws: the file system's error when a file cannot be written.
  public static func write(originals: Int, into folder: URL) throws -> [Member] {
    var members: [Member] = []
    members.reserveCapacity(originals * 5)
    // One generator for the variants' parameters across the whole set (the originals have
    // their own seeds), so a set's first groups do not depend on its size.
    var random = XorShift64(seed: 77)
    func write(_ bytes: [UInt8], _ name: String, _ group: Int) throws {
      let url = folder.appendingPathComponent(name)
      try Data(bytes).write(to: url)
      members.append(Member(path: url.standardizedFileURL.path, group: group))
    }
    for g in 0..<originals {
      let original = Self.original(seed: UInt64(g + 1))
      let png = PNGEncoder.encode(original)
      try write(png, String(format: "%05d-original.png", g), g)
      try write(png, String(format: "%05d-copy.png", g), g)
      let scale = 0.5 + 1.5 * random.unit()
      try write(
        PNGEncoder.encode(resized(original, scale: scale)),
        String(format: "%05d-resized.png", g), g)
      let quality = random.int(70...95)
      try write(
        JPEGEncoder.encode(original, quality: quality), String(format: "%05d-q%d.jpg", g, quality),
        g)
      // Never 0: a zero shift would be an exact copy, not a brightness variant.
      let delta = random.int(2...12) * (random.int(0...1) == 0 ? -1 : 1)
      try write(
        PNGEncoder.encode(brightened(original, by: delta)), String(format: "%05d-bright.png", g),
        g)
    }
    return members
  }

  /// Pairwise precision and recall of `predicted` groups (path → group id, for the paths in a
  /// group) against `truth` (path → original): of the pairs put in one group, the share that
  /// derive from one original, and of those pairs, the share put in one group.
  public static func pairScores<Group: Hashable>(
    truth: [String: Int], predicted: [String: Group]
  ) -> (precision: Double, recall: Double) {
    var truthGroups: [Int: Int] = [:]
    for group in truth.values { truthGroups[group, default: 0] += 1 }
    var predictedGroups: [Group: [String]] = [:]
    for (path, group) in predicted { predictedGroups[group, default: []].append(path) }
    func pairs(_ n: Int) -> Int { n * (n - 1) / 2 }
    let truePairs = truthGroups.values.reduce(0) { $0 + pairs($1) }
    let predictedPairs = predictedGroups.values.reduce(0) { $0 + pairs($1.count) }
    var both = 0
    for members in predictedGroups.values {
      var byTruth: [Int: Int] = [:]
      for path in members { byTruth[truth[path] ?? -1, default: 0] += 1 }
      both += byTruth.filter { $0.key >= 0 }.values.reduce(0) { $0 + pairs($1) }
    }
    let precision = predictedPairs == 0 ? 1 : Double(both) / Double(predictedPairs)
    let recall = truePairs == 0 ? 1 : Double(both) / Double(truePairs)
    return (precision, recall)
  }

  /// A textured original: a random 6×5 colour grid upsampled (smooth), plus random rectangles.
  public static func original(seed: UInt64, width: Int = 320, height: Int = 240) -> RGBImage {
    var random = XorShift64(seed: seed)
    let grid = RGBImage(
      width: 6, height: 5, pixels: (0..<(6 * 5 * 3)).map { _ in UInt8(random.int(0...255)) })
    let smooth = PILBicubic.resize(grid, width: width, height: height)
    var pixels = smooth.pixels
    for _ in 0..<random.int(2...5) {
      let x0 = random.int(0...(width - 20))
      let y0 = random.int(0...(height - 20))
      let w = random.int(10...(width - x0))
      let h = random.int(10...(height - y0))
      let colour = (0..<3).map { _ in UInt8(random.int(0...255)) }
      for y in y0..<(y0 + h) {
        for x in x0..<(x0 + w) {
          for c in 0..<3 { pixels[(y * width + x) * 3 + c] = colour[c] }
        }
      }
    }
    return RGBImage(width: width, height: height, pixels: pixels)
  }

  /// `image` resized by `scale` (Pillow's bicubic), at least 8 pixels a side.
  public static func resized(_ image: RGBImage, scale: Double) -> RGBImage {
    PILBicubic.resize(
      image, width: max(Int(Double(image.width) * scale), 8),
      height: max(Int(Double(image.height) * scale), 8))
  }

  /// `image` with `delta` added to every channel, clamped.
  public static func brightened(_ image: RGBImage, by delta: Int) -> RGBImage {
    RGBImage(
      width: image.width, height: image.height,
      pixels: image.pixels.map { UInt8(min(max(Int($0) + delta, 0), 255)) })
  }
}

extension XorShift64 {
  /// A value in `range` (modulo bias is irrelevant for test images).
  fileprivate mutating func int(_ range: ClosedRange<Int>) -> Int {
    range.lowerBound + Int(next() % UInt64(range.count))
  }

  /// A value in [0, 1) in steps of 1e-6.
  fileprivate mutating func unit() -> Double { Double(next() % 1_000_000) / 1_000_000 }
}
