/// Reads PostgreSQL's binary numeric (base-10000 digit groups) as exact decimal text.
enum PostgresNumeric {
  private static let negative: UInt16 = 0x4000
  private static let notANumber: UInt16 = 0xC000
  private static let positiveInfinity: UInt16 = 0xD000
  private static let negativeInfinity: UInt16 = 0xF000

  static func text(from value: PostgresValue) throws -> String {
    let bytes = try value.nonNullBytes(for: String.self)
    var reader = BinaryReader(bytes)
    guard let count = reader.read(Int16.self), let weight = reader.read(Int16.self),
      let sign = reader.read(UInt16.self), let scale = reader.read(Int16.self), count >= 0,
      scale >= 0
    else { throw value.malformed(String.self, "truncated numeric header") }
    switch sign {
    case notANumber: return "NaN"
    case positiveInfinity: return "Infinity"
    case negativeInfinity: return "-Infinity"
    default: break
    }
    var digits: [Int16] = []
    for _ in 0..<count {
      guard let digit = reader.read(Int16.self), (0..<10000).contains(digit) else {
        throw value.malformed(String.self, "bad numeric digit group")
      }
      digits.append(digit)
    }
    func group(_ index: Int) -> Int16 { index >= 0 && index < digits.count ? digits[index] : 0 }
    func padded(_ digit: Int16) -> String {
      let text = String(digit)
      return String(repeating: "0", count: 4 - text.count) + text
    }
    var text = sign == negative ? "-" : ""
    if weight < 0 {
      text += "0"
    } else {
      text += String(group(0))
      for index in stride(from: 1, through: Int(weight), by: 1) { text += padded(group(index)) }
    }
    if scale > 0 {
      var fraction = ""
      var position = 1
      while fraction.count < Int(scale) {
        fraction += padded(group(Int(weight) + position))
        position += 1
      }
      text += "." + fraction.prefix(Int(scale))
    }
    return text
  }
}
