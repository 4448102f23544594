/// Undoes PostgreSQL's COPY text-format escaping of one column (`\\`, `\n`, `\t`, octal, `\x`).
public enum CopyTextDecoder {
  /// The column's raw bytes, unescaped. A lone `\N` (SQL NULL) returns nil.
  public static func unescape(_ bytes: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
    if bytes.count == 2, bytes[0] == 0x5C, bytes[1] == UInt8(ascii: "N") { return nil }
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count)
    var index = 0
    while index < bytes.count {
      let byte = bytes[index]
      guard byte == 0x5C, index + 1 < bytes.count else {
        out.append(byte)
        index += 1
        continue
      }
      let next = bytes[index + 1]
      index += 2
      switch next {
      case UInt8(ascii: "v"): out.append(0x0B)
      case UInt8(ascii: "0")...UInt8(ascii: "7"):
        var value = UInt32(next - 0x30)
        var digits = 1
        while digits < 3, index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x37 {
          value = value * 8 + UInt32(bytes[index] - 0x30)
          index += 1
          digits += 1
        }
        out.append(UInt8(truncatingIfNeeded: value))
      case UInt8(ascii: "x"):
        var value: UInt8 = 0
        var digits = 0
        while digits < 2, index < bytes.count, let digit = BackslashEscape.hexDigit(bytes[index]) {
          value = value * 16 + digit
          index += 1
          digits += 1
        }
        if digits == 0 { out.append(UInt8(ascii: "x")) } else { out.append(value) }
      default: out.append(BackslashEscape.control(next) ?? next)
      }
    }
    return out
  }

}
