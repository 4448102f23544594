/// UTF-8 helpers shared by the tokenizers, which all work on raw bytes.
enum UTF8Scan {
  /// Byte length of the character starting with `lead`, as SentencePiece counts it
  /// (no validation; capped by the caller at the bytes left).
  @inline(__always)
  static func charLength(lead: UInt8) -> Int {
    switch lead >> 4 {
    case 0xC, 0xD: return 2
    case 0xE: return 3
    case 0xF: return 4
    default: return 1
    }
  }

  /// Length of the valid UTF-8 character at `start`, or nil when the bytes there are not one
  /// (truncated, overlong, surrogate or above U+10FFFF).
  static func validCharLength(_ bytes: UnsafeBufferPointer<UInt8>, at start: Int) -> Int? {
    let left = bytes.count - start
    guard left > 0 else { return nil }
    let b0 = UInt32(bytes[start])
    if b0 < 0x80 { return 1 }
    func trail(_ i: Int) -> UInt32? {
      let b = bytes[start + i]
      return b & 0xC0 == 0x80 ? UInt32(b & 0x3F) : nil
    }
    func valid(_ cp: UInt32) -> Bool { cp < 0xD800 || (cp >= 0xE000 && cp <= 0x10FFFF) }
    if b0 & 0xE0 == 0xC0, left >= 2, let t1 = trail(1) {
      let cp = (b0 & 0x1F) << 6 | t1
      return cp >= 0x80 ? 2 : nil
    }
    if b0 & 0xF0 == 0xE0, left >= 3, let t1 = trail(1), let t2 = trail(2) {
      let cp = (b0 & 0x0F) << 12 | t1 << 6 | t2
      return cp >= 0x800 && valid(cp) ? 3 : nil
    }
    if b0 & 0xF8 == 0xF0, left >= 4, let t1 = trail(1), let t2 = trail(2), let t3 = trail(3) {
      let cp = (b0 & 0x07) << 18 | t1 << 12 | t2 << 6 | t3
      return cp >= 0x10000 && valid(cp) ? 4 : nil
    }
    return nil
  }

  static let replacementCharacter: [UInt8] = [0xEF, 0xBF, 0xBD]
  /// "▁" (U+2581), SentencePiece's visible space.
  static let spaceSymbol: [UInt8] = [0xE2, 0x96, 0x81]

  /// Appends `bytes` decoded as UTF-8 with each invalid byte replaced by U+FFFD, as
  /// sentencepiece does for byte pieces.
  static func appendReplacingInvalid(_ bytes: [UInt8], to out: inout [UInt8]) {
    bytes.withUnsafeBufferPointer { buf in
      var i = 0
      while i < buf.count {
        if let n = validCharLength(buf, at: i) {
          out.append(contentsOf: buf[i..<i + n])
          i += n
        } else {
          out.append(contentsOf: replacementCharacter)
          i += 1
        }
      }
    }
  }

  static func isValid(_ bytes: [UInt8]) -> Bool {
    bytes.withUnsafeBufferPointer { buf in
      var i = 0
      while i < buf.count {
        guard let n = validCharLength(buf, at: i) else { return false }
        i += n
      }
      return true
    }
  }

  /// Parses "<0xAB>" byte-piece names.
  static func byteValue(ofPiece piece: some Collection<UInt8>) -> UInt8? {
    let p = Array(piece)
    guard p.count == 6, p[0] == UInt8(ascii: "<"), p[1] == UInt8(ascii: "0"),
      p[2] == UInt8(ascii: "x"), p[5] == UInt8(ascii: ">"),
      let hi = hexDigit(p[3]), let lo = hexDigit(p[4])
    else { return nil }
    return hi << 4 | lo
  }

  private static func hexDigit(_ c: UInt8) -> UInt8? {
    switch c {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
    default: return nil
    }
  }

  /// "<0x0A>"-style name of a byte piece (upper-case hex, as both reference tokenizers write it).
  static func pieceName(forByte b: UInt8) -> [UInt8] {
    let digits = Array("0123456789ABCDEF".utf8)
    return Array("<0x".utf8) + [digits[Int(b >> 4)], digits[Int(b & 15)], UInt8(ascii: ">")]
  }
}
