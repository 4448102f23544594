/// Which items a dataset keeps, with DataComp's defaults. Each filter is a number; 0 (or an empty
/// format list) switches it off. Stored as JSON in `dataset.filters`, re-applied in SQL by
/// `trolley dataset filter` (Datasets.DatasetStore+Filter mirrors `reasons(...)` exactly).
public struct FilterSettings: Sendable, Hashable, Codable {
  /// Smallest accepted shorter side, in pixels. Default 200.
  public var minSide: Int
  /// Largest accepted long/short side ratio. Default 3.
  public var maxAspect: Double
  /// Accepted formats, lowercase (`jpeg`, `png`, `webp`). Default all three.
  public var formats: [String]
  /// Largest accepted file, in bytes. Default 64 MiB.
  public var maxBytes: Int
  /// Captions need more than this many words. Default 2.
  public var captionWords: Int
  /// Captions need more than this many characters. Default 5.
  public var captionChars: Int

  public init(
    minSide: Int = 200, maxAspect: Double = 3, formats: [String] = ["jpeg", "png", "webp"],
    maxBytes: Int = 64 << 20, captionWords: Int = 2, captionChars: Int = 5
  ) {
    self.minSide = minSide
    self.maxAspect = maxAspect
    self.formats = formats
    self.maxBytes = maxBytes
    self.captionWords = captionWords
    self.captionChars = captionChars
  }

  /// DataComp's defaults.
  public static let `default` = FilterSettings()

  enum CodingKeys: String, CodingKey {
    case minSide = "min_side"
    case maxAspect = "max_aspect"
    case formats
    case maxBytes = "max_bytes"
    case captionWords = "caption_words"
    case captionChars = "caption_chars"
  }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    let d = FilterSettings.default
    minSide = try c.decodeIfPresent(Int.self, forKey: .minSide) ?? d.minSide
    maxAspect = try c.decodeIfPresent(Double.self, forKey: .maxAspect) ?? d.maxAspect
    formats = try c.decodeIfPresent([String].self, forKey: .formats) ?? d.formats
    maxBytes = try c.decodeIfPresent(Int.self, forKey: .maxBytes) ?? d.maxBytes
    captionWords = try c.decodeIfPresent(Int.self, forKey: .captionWords) ?? d.captionWords
    captionChars = try c.decodeIfPresent(Int.self, forKey: .captionChars) ?? d.captionChars
  }

  /// Every filter an image fails, by name, in a fixed order (`min_side`, `max_aspect`, `format`,
  /// `max_bytes`, `caption_words`, `caption_chars`); empty when it passes.
  public func reasons(
    width: Int, height: Int, format: String, bytes: Int, caption: String? = nil
  ) -> [String] {
    var failed: [String] = []
    if minSide > 0 && min(width, height) < minSide { failed.append("min_side") }
    if maxAspect > 0 && Double(max(width, height)) > maxAspect * Double(min(width, height)) {
      failed.append("max_aspect")
    }
    if !formats.isEmpty && !formats.contains(format) { failed.append("format") }
    if maxBytes > 0 && bytes > maxBytes { failed.append("max_bytes") }
    if let caption {
      let words = caption.split(whereSeparator: { $0.isWhitespace }).count
      if captionWords > 0 && words <= captionWords { failed.append("caption_words") }
      if captionChars > 0 && caption.unicodeScalars.count <= captionChars {
        failed.append("caption_chars")
      }
    }
    return failed
  }
}
