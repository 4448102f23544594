/// Terminal cell widths, so that tables and screens line up with non-ASCII text.
public enum DisplayWidth {
  /// Cells `text` occupies: wide East Asian characters and emoji take 2, combining marks 0.
  public static func of(_ text: String) -> Int {
    var total = 0
    for character in text { total += of(character) }
    return total
  }

  /// Cells one character occupies.
  public static func of(_ character: Character) -> Int {
    var widest = 0
    for scalar in character.unicodeScalars { widest = max(widest, of(scalar)) }
    return widest
  }

  static func of(_ scalar: Unicode.Scalar) -> Int {
    let value = scalar.value
    if value < 0x20 || (value >= 0x7F && value < 0xA0) { return 0 }
    if value < 0x300 { return 1 }
    switch scalar.properties.generalCategory {
    case .nonspacingMark, .enclosingMark, .format: return 0
    default: break
    }
    if (0x1100...0x115F).contains(value) || (0x2E80...0xA4CF).contains(value)
      || (0xAC00...0xD7A3).contains(value) || (0xF900...0xFAFF).contains(value)
      || (0xFE30...0xFE4F).contains(value) || (0xFF00...0xFF60).contains(value)
      || (0xFFE0...0xFFE6).contains(value) || (0x1F300...0x1F64F).contains(value)
      || (0x1F900...0x1F9FF).contains(value) || (0x20000...0x3FFFD).contains(value)
    {
      return 2
    }
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
