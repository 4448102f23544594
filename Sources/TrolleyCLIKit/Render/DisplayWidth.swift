/// Terminal cell widths, so that tables and screens line up with non-ASCII text.
public enum DisplayWidth {
  /// Cells `text` occupies: wide East Asian characters and emoji take 2, combining marks 0.
  public static func of(_ text: String) -> Int {
    var total = 0
    for character in text { total += of(character) }
    return total
  }

  /// Cells one character (grapheme cluster) occupies, as terminals draw it: an emoji shown as
  /// emoji is 2 cells whether it is so by default (Emoji_Presentation, such as 🚀 and ✅) or by
  /// a U+FE0F selector (❤️); U+FE0E asks for the 1-cell text form; East Asian Wide and Fullwidth
  /// characters are 2; combining marks add nothing.
  public static func of(_ character: Character) -> Int {
    let scalars = character.unicodeScalars
    guard let first = scalars.first else { return 0 }
    if first.value < 0x300, scalars.count == 1 { return of(first) }
    if scalars.contains("\u{FE0E}") { return min(1, of(first)) }
    if first.properties.isEmoji && scalars.contains("\u{FE0F}") { return 2 }
    var widest = 0
    for scalar in scalars { widest = max(widest, of(scalar)) }
    return widest
  }

  /// East Asian Width W and F ranges (Unicode's EastAsianWidth.txt, grouped into blocks).
  static let wideRanges: [ClosedRange<UInt32>] = [
    0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF,
    0xA000...0xA4CF, 0xA960...0xA97F, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE10...0xFE19,
    0xFE30...0xFE6F, 0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x16FE0...0x16FE4, 0x17000...0x18CFF,
    0x1B000...0x1B2FF, 0x1F200...0x1F2FF, 0x1F300...0x1F64F, 0x1F900...0x1F9FF,
    0x20000...0x2FFFD, 0x30000...0x3FFFD,
  ]

  static func of(_ scalar: Unicode.Scalar) -> Int {
    let value = scalar.value
    if value < 0x20 || (value >= 0x7F && value < 0xA0) { return 0 }
    if value < 0x300 { return 1 }
    switch scalar.properties.generalCategory {
    case .nonspacingMark, .enclosingMark, .format: return 0
    default: break
    }
    // Emoji_Presentation: drawn as a 2-cell emoji by default (🚀, ✅, ⌚, 🇫 in a flag, ...).
    if scalar.properties.isEmojiPresentation { return 2 }
    for range in wideRanges where range.contains(value) { return 2 }
    return 1
  }

  /// `text` on one line: control characters (newlines, tabs, escapes) become spaces so that
  /// data from the database cannot break or hijack the screen.
  public static func singleLine(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for scalar in text.unicodeScalars {
      if scalar.value < 0x20 || (scalar.value >= 0x7F && scalar.value < 0xA0) {
        out.append(" ")
      } else {
        out.unicodeScalars.append(scalar)
      }
    }
    return out
  }

  /// `text` cut to at most `width` cells, ending in "…" when cut.
  public static func truncate(_ text: String, to width: Int) -> String {
    guard width > 0 else { return "" }
    if of(text) <= width { return text }
    var out = ""
    var used = 0
    for character in text {
      let cells = of(character)
      if used + cells > width - 1 { break }
      out.append(character)
      used += cells
    }
    return out + "…"
  }

  /// `text` cut or padded with spaces to exactly `width` cells.
  public static func fit(_ text: String, to width: Int, alignRight: Bool = false) -> String {
    let cut = truncate(text, to: width)
    let padding = String(repeating: " ", count: max(0, width - of(cut)))
    return alignRight ? padding + cut : cut + padding
  }
}
