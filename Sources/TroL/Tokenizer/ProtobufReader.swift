import TrolleyBasics

/// A minimal reader for the protobuf wire format, enough for SentencePiece's `ModelProto`.
///
/// Every read is bounds-checked; a truncated or malformed message throws `invalidTokenizer`
/// naming `context` (the file being read) instead of trapping.
struct ProtobufReader {
  enum WireType: UInt8 {
    case varint = 0
    case fixed64 = 1
    case lengthDelimited = 2
    case startGroup = 3
    case endGroup = 4
    case fixed32 = 5
  }

  private let bytes: [UInt8]
  private(set) var position: Int
  private let end: Int
  let context: String

  init(_ bytes: [UInt8], context: String) {
    self.init(bytes, range: 0..<bytes.count, context: context)
  }

  private init(_ bytes: [UInt8], range: Range<Int>, context: String) {
    self.bytes = bytes
    self.position = range.lowerBound
    self.end = range.upperBound
    self.context = context
  }

  var isAtEnd: Bool { position >= end }

  /// Reads the next field key; nil at the end of the message.
  mutating func nextField() throws -> (number: Int, wireType: WireType)? {
    if isAtEnd { return nil }
    let key = try readVarint()
    guard let wireType = WireType(rawValue: UInt8(key & 7)) else {
      throw malformed("unknown wire type \(key & 7) at byte \(position)")
    }
    let number = Int(key >> 3)
    guard number > 0 else { throw malformed("field number 0 at byte \(position)") }
    return (number, wireType)
  }

  mutating func readVarint() throws -> UInt64 {
    var result: UInt64 = 0
    var shift: UInt64 = 0
    while true {
      guard position < end else { throw malformed("truncated varint") }
      let byte = bytes[position]
      position += 1
      guard shift < 64 else { throw malformed("varint longer than 10 bytes") }
      result |= UInt64(byte & 0x7F) << shift
      if byte & 0x80 == 0 { return result }
      shift += 7
    }
  }

  mutating func readFixed32() throws -> UInt32 {
    guard end - position >= 4 else { throw malformed("truncated fixed32") }
    var value: UInt32 = 0
    for i in 0..<4 { value |= UInt32(bytes[position + i]) << (8 * UInt32(i)) }
    position += 4
    return value
  }

  mutating func readFloat() throws -> Float { Float(bitPattern: try readFixed32()) }

  mutating func readBool() throws -> Bool { try readVarint() != 0 }

  /// proto2 `int32`: negative values are sign-extended to 10-byte varints.
  mutating func readInt32() throws -> Int32 { Int32(truncatingIfNeeded: try readVarint()) }

  mutating func readBytes() throws -> ArraySlice<UInt8> {
    let length = try readVarint()
    guard length <= UInt64(end - position) else {
      throw malformed("length \(length) at byte \(position) runs past the end of the message")
    }
    let start = position
    position += Int(length)
    return bytes[start..<position]
  }

  /// A reader over an embedded message.
  mutating func readMessage() throws -> ProtobufReader {
    let slice = try readBytes()
    return ProtobufReader(bytes, range: slice.startIndex..<slice.endIndex, context: context)
  }

  mutating func skip(_ wireType: WireType) throws {
    switch wireType {
    case .varint: _ = try readVarint()
    case .fixed64:
      guard end - position >= 8 else { throw malformed("truncated fixed64") }
      position += 8
    case .fixed32:
      guard end - position >= 4 else { throw malformed("truncated fixed32") }
      position += 4
    case .lengthDelimited: _ = try readBytes()
    case .startGroup, .endGroup: throw malformed("groups are not used by SentencePiece models")
    }
  }

  /// Checks that a field has the wire type its schema declares.
  func expect(_ wireType: WireType, got: WireType, field: String) throws {
    guard wireType == got else {
      throw malformed("field \(field) has wire type \(got.rawValue), expected \(wireType.rawValue)")
    }
  }

  func malformed(_ what: String) -> TroLError {
    TroLError(
      .invalidTokenizer,
      "\(context) is not a valid SentencePiece model: \(what). Re-download the tokenizer file.")
  }
}
