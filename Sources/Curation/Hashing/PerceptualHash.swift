/// The four perceptual hashes of imagehash 4.3.2, bit-identical with it on PNG input.
///
/// Every hash starts from Pillow's grey conversion and its fixed-point LANCZOS resize
/// (`GreyImage`, `PillowLanczos`). Bits are row-major with the first bit most significant, so
/// `String(hash, radix: 16)` padded to 16 digits is imagehash's `str(hash)`.
public enum PerceptualHash {
  /// aHash: 8×8 grey; bit = pixel > mean. The mean of 64 bytes is exact in doubles, so the
  /// comparison is done in integers (64·p > Σp).
  public static func average(_ image: GreyImage) -> UInt64 {
    let small = PillowLanczos.resize(image, width: 8, height: 8)
    let sum = small.pixels.reduce(0) { $0 + Int($1) }
    var bits: UInt64 = 0
    for p in small.pixels { bits = bits << 1 | (64 * Int(p) > sum ? 1 : 0) }
    return bits
  }

  /// pHash: 32×32 grey; DCT-II on axis 0 then axis 1 (SciPy's `fftpack.dct`, unnormalised);
  /// the top-left 8×8 including DC; bit = coefficient > median (mean of the 32nd and 33rd).
  public static func perceptual(_ image: GreyImage) -> UInt64 {
    let n = 32
    let small = PillowLanczos.resize(image, width: n, height: n)
    let dct = PocketDCT(length: n)
    var matrix = small.pixels.map { Double($0) }
    var line = [Double](repeating: 0, count: n)
    var scratch = [Double](repeating: 0, count: n)
    for column in 0..<n {
      for row in 0..<n { line[row] = matrix[row * n + column] }
      dct.transform(&line, scratch: &scratch)
      for row in 0..<n { matrix[row * n + column] = line[row] }
    }
    // Only the first eight rows feed the hash, but every row is transformed the same way, and
    // the axis-1 transform of a row does not depend on other rows.
    var low = [Double](repeating: 0, count: 64)
    for row in 0..<8 {
      for column in 0..<n { line[column] = matrix[row * n + column] }
      dct.transform(&line, scratch: &scratch)
      for column in 0..<8 { low[row * 8 + column] = line[column] }
    }
    return bitsAboveMedian(low)
  }

  /// dHash: 9 wide × 8 high grey; bit = right neighbour > left.
  public static func difference(_ image: GreyImage) -> UInt64 {
    let small = PillowLanczos.resize(image, width: 9, height: 8)
    var bits: UInt64 = 0
    for row in 0..<8 {
      for column in 0..<8 {
        let left = small.pixels[row * 9 + column]
        let right = small.pixels[row * 9 + column + 1]
        bits = bits << 1 | (right > left ? 1 : 0)
      }
    }
    return bits
  }

  /// wHash (Haar, with the coarsest LL removed):
  /// s = max(2^⌊log2 min(w, h)⌋, 8); resize to s×s; divide by 255; `wavedec2` to level log2 s,
  /// zero the 1×1 LL, `waverec2`; `wavedec2` to level log2 s − 3; bit = LL > median.
  public static func wavelet(_ image: GreyImage) -> UInt64 {
    let shortest = min(image.width, image.height)
    let natural = 1 << (Int.bitWidth - 1 - shortest.leadingZeroBitCount)
    let size = max(natural, 8)
    let maxLevel = size.trailingZeroBitCount
    let resized = PillowLanczos.resize(image, width: size, height: size)
    var data = resized.pixels.map { Double($0) / 255.0 }
    HaarWavelet.decompose(&data, size: size, levels: maxLevel)
    data[0] *= 0
    HaarWavelet.reconstruct(&data, size: size, levels: maxLevel)
    let hashLevel = maxLevel - 3
    if hashLevel > 0 {
      HaarWavelet.decompose(&data, size: size, levels: hashLevel)
    }
    var low = [Double](repeating: 0, count: 64)
    for row in 0..<8 {
      for column in 0..<8 { low[row * 8 + column] = data[row * size + column] }
    }
    return bitsAboveMedian(low)
  }

  /// numpy's median of an even count: the mean of the two middle values, (a + b) / 2.
  static func bitsAboveMedian(_ values: [Double]) -> UInt64 {
    let sorted = values.sorted()
    let middle = sorted.count / 2
    let median = (sorted[middle - 1] + sorted[middle]) / 2
    var bits: UInt64 = 0
    for v in values { bits = bits << 1 | (v > median ? 1 : 0) }
    return bits
  }
}

/// A 64-bit perceptual hash kind, as stored in `dataset_item` and named on the command line.
public enum HashKind: String, Sendable, CaseIterable, Codable {
  case ahash, phash, dhash, whash
}

/// The four hashes of one image.
public struct ImageHashes: Sendable, Hashable, Codable {
  public var ahash: UInt64
  public var phash: UInt64
  public var dhash: UInt64
  public var whash: UInt64

  /// Computes all four from one grey image.
  public init(grey: GreyImage) {
    ahash = PerceptualHash.average(grey)
    phash = PerceptualHash.perceptual(grey)
    dhash = PerceptualHash.difference(grey)
    whash = PerceptualHash.wavelet(grey)
  }

  public subscript(kind: HashKind) -> UInt64 {
    switch kind {
    case .ahash: ahash
    case .phash: phash
    case .dhash: dhash
    case .whash: whash
    }
  }

  /// imagehash's string form: 16 lowercase hex digits.
  public static func hex(_ value: UInt64) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: 16 - digits.count) + digits
  }

  /// Parses 16 hex digits (either case); nil for anything else.
  public static func parse(hex: String) -> UInt64? {
    guard hex.utf8.count == 16 else { return nil }
    return UInt64(hex, radix: 16)
  }

  /// The hash as PostgreSQL's int8 stores it (the same 64 bits, two's complement).
  public static func signed(_ value: UInt64) -> Int64 { Int64(bitPattern: value) }
}
