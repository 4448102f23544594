/// A Hugging Face "added token": a string matched as a whole before the model sees the text,
/// with the flags that control how it eats surrounding whitespace.
public struct AddedToken: Sendable, Hashable {
  public var content: String
  public var id: Int
  /// Swallows whitespace on the left of the match.
  public var lstrip: Bool
  /// Swallows whitespace on the right of the match (Phi-3's chat tokens eat the "\n" after them).
  public var rstrip: Bool
  /// Only matches when not inside a word.
  public var singleWord: Bool
  /// Matched on normalized text instead of the raw input (fast tokenizers only).
  public var normalized: Bool
  /// Dropped by `decode(skipSpecialTokens: true)`.
  public var special: Bool

  public init(
    content: String, id: Int, lstrip: Bool = false, rstrip: Bool = false, singleWord: Bool = false,
    normalized: Bool = false, special: Bool = false
  ) {
    self.content = content
    self.id = id
    self.lstrip = lstrip
    self.rstrip = rstrip
    self.singleWord = singleWord
    self.normalized = normalized
    self.special = special
  }

  var bytes: [UInt8] { Array(content.utf8) }
}

/// Whitespace tests on UTF-8, matching the two reference implementations, which differ.
enum Whitespace {
  /// Python's `str.isspace()` (used by the slow tokenizers' `strip()` and by answer extraction).
  static func isPythonSpace(_ c: Unicode.Scalar) -> Bool {
    switch c.value {
    case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F,
      0x205F, 0x3000:
      return true
    default: return false
    }
  }

  /// Rust's `char::is_whitespace` (Unicode White_Space, used by `tokenizers`' lstrip/rstrip).
  static func isRustSpace(_ c: Unicode.Scalar) -> Bool {
    switch c.value {
    case 0x09...0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F,
      0x3000:
      return true
    default: return false
    }
  }

  /// Number of leading bytes of `bytes[range]` that are whitespace per `isSpace`.
  static func leadingCount(
    _ bytes: [UInt8], _ range: Range<Int>, _ isSpace: (Unicode.Scalar) -> Bool
  ) -> Int {
    var i = range.lowerBound
    while i < range.upperBound, let (scalar, n) = scalar(bytes, at: i), isSpace(scalar) {
      i += n
    }
    return i - range.lowerBound
  }

  /// Number of trailing bytes of `bytes[range]` that are whitespace per `isSpace`.
  static func trailingCount(
    _ bytes: [UInt8], _ range: Range<Int>, _ isSpace: (Unicode.Scalar) -> Bool
  ) -> Int {
    var end = range.upperBound
    while end > range.lowerBound {
      var start = end - 1
      while start > range.lowerBound, bytes[start] & 0xC0 == 0x80 { start -= 1 }
      guard let (scalar, _) = scalar(bytes, at: start), isSpace(scalar) else { break }
      end = start
    }
    return range.upperBound - end
  }

  /// The scalar starting at `i` of valid UTF-8 and its byte length.
  static func scalar(_ bytes: [UInt8], at i: Int) -> (Unicode.Scalar, Int)? {
    guard i < bytes.count else { return nil }
    let b0 = UInt32(bytes[i])
    let n = UTF8Scan.charLength(lead: bytes[i])
    guard i + n <= bytes.count else { return nil }
    var v: UInt32
    switch n {
    case 1: v = b0
    case 2: v = (b0 & 0x1F) << 6 | UInt32(bytes[i + 1] & 0x3F)
    case 3: v = (b0 & 0x0F) << 12 | UInt32(bytes[i + 1] & 0x3F) << 6 | UInt32(bytes[i + 2] & 0x3F)
    default:
      v =
        (b0 & 0x07) << 18 | UInt32(bytes[i + 1] & 0x3F) << 12 | UInt32(bytes[i + 2] & 0x3F) << 6
        | UInt32(bytes[i + 3] & 0x3F)
    }
    guard let s = Unicode.Scalar(v) else { return nil }
    return (s, n)
  }
}
