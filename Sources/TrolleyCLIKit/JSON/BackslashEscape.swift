/// What JSON strings and PostgreSQL's COPY text format both take from C: the one-letter control
/// escapes after a backslash, and hex digits. `JSONParser` and `CopyTextDecoder` read them here.
enum BackslashEscape {
  /// The control byte `\b`, `\f`, `\n`, `\r` or `\t` stands for, given the letter after the
  /// backslash; nil for any other letter.
  static func control(_ letter: UInt8) -> UInt8? {
    switch letter {
    case UInt8(ascii: "b"): 0x08
    case UInt8(ascii: "f"): 0x0C
    case UInt8(ascii: "n"): 0x0A
    case UInt8(ascii: "r"): 0x0D
    case UInt8(ascii: "t"): 0x09
    default: nil
    }
  }

  /// The value of one hex digit (either case); nil for any other byte.
  static func hexDigit(_ byte: UInt8) -> UInt8? {
    switch byte {
    case 0x30...0x39: byte - 0x30
    case 0x41...0x46: byte - 0x41 + 10
    case 0x61...0x66: byte - 0x61 + 10
    default: nil
    }
  }
}
