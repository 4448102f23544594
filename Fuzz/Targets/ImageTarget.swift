import TroL

/// The worker's decoder with a smaller pixel limit than its default (100 M), so that inputs which
/// merely declare a huge canvas do not slow every execution; the limit check itself is the same.
private let decoder = ImageDecoder(limits: .init(maxBytes: 1 << 20, maxPixels: 4_000_000))

func fuzzImage(_ bytes: [UInt8]) {
  guard let image = try? decoder.decode(bytes) else { return }
  _ = image
}
