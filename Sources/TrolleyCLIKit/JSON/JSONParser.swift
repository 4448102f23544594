public import TrolleyJobContracts

/// A strict RFC 8259 parser for one JSON text (one manifest line), reporting the column of an error.
public struct JSONParser {
  /// Why a text is not valid JSON, and where (1-based byte column).
  public struct Failure: Error, Sendable, Equatable {
    public let column: Int
    public let reason: String
  }

  /// Nesting deeper than this is refused so a hostile manifest line cannot exhaust the stack.
  static let maximumDepth = 128

  private let bytes: UnsafeBufferPointer<UInt8>
  private var index = 0

  private init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

  /// Parses `text` as exactly one JSON value surrounded by optional whitespace.
  public static func parse(_ text: String) throws(Failure) -> JSONValue {
    var copy = text
    let result: Result<JSONValue, Failure> = copy.withUTF8 { buffer in
      var parser = JSONParser(buffer)
      do throws(Failure) {
        return .success(try parser.parseDocument())
      } catch {
        return .failure(error)
      }
    }
    return try result.get()
  }

  /// Parses UTF-8 `bytes` as exactly one JSON value surrounded by optional whitespace.
  public static func parse(bytes: UnsafeBufferPointer<UInt8>) throws(Failure) -> JSONValue {
    var parser = JSONParser(bytes)
    return try parser.parseDocument()
  }

  private mutating func parseDocument() throws(Failure) -> JSONValue {
    skipWhitespace()
    let value = try parseValue(depth: 0)
    skipWhitespace()
    if index < bytes.count { throw fail("unexpected text after the JSON value") }
    return value
  }

  private func fail(_ reason: String) -> Failure { Failure(column: index + 1, reason: reason) }

  private mutating func skipWhitespace() {
    while index < bytes.count {
      switch bytes[index] {
      case 0x20, 0x09, 0x0A, 0x0D: index += 1
      default: return
      }
    }
  }

  private mutating func parseValue(depth: Int) throws(Failure) -> JSONValue {
    guard index < bytes.count else { throw fail("the line ends where a value was expected") }
    switch bytes[index] {
    case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
    case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
    case UInt8(ascii: "\""): return .string(try parseString())
    case UInt8(ascii: "t"):
      try expectWord("true")
      return .bool(true)
    case UInt8(ascii: "f"):
      try expectWord("false")
      return .bool(false)
    case UInt8(ascii: "n"):
      try expectWord("null")
      return .null
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
    default: throw fail("expected a JSON value")
    }
  }

  private mutating func expectWord(_ word: StaticString) throws(Failure) {
    let count = word.utf8CodeUnitCount
    guard index + count <= bytes.count else { throw fail("expected \(word)") }
    let start = word.utf8Start
    for offset in 0..<count where bytes[index + offset] != start[offset] {
      throw fail("expected \(word)")
    }
    index += count
  }

  private mutating func parseObject(depth: Int) throws(Failure) -> JSONValue {
    var members: [JSONValue.Member] = []
    guard try open(depth: depth, closedBy: UInt8(ascii: "}")) else { return .object(members) }
    repeat {
      skipWhitespace()
      guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
        throw fail("expected a quoted key")
      }
      let key = try parseString()
      skipWhitespace()
      guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else {
        throw fail("expected ':' after the key")
      }
      index += 1
      skipWhitespace()
      let value = try parseValue(depth: depth)
      members.append(JSONValue.Member(key, value))
    } while try nextItem(closedBy: UInt8(ascii: "}"), in: "object")
    return .object(members)
  }

  private mutating func parseArray(depth: Int) throws(Failure) -> JSONValue {
    var items: [JSONValue] = []
    guard try open(depth: depth, closedBy: UInt8(ascii: "]")) else { return .array(items) }
    repeat {
      skipWhitespace()
      items.append(try parseValue(depth: depth))
    } while try nextItem(closedBy: UInt8(ascii: "]"), in: "array")
    return .array(items)
  }

  /// Steps over an object's or array's opening bracket at `depth`; false when `close` follows
  /// at once (an empty one, whose closing bracket it steps over too).
  private mutating func open(depth: Int, closedBy close: UInt8) throws(Failure) -> Bool {
    if depth > Self.maximumDepth {
      throw fail("nesting is deeper than \(Self.maximumDepth) levels")
    }
    index += 1
    skipWhitespace()
    if index < bytes.count, bytes[index] == close {
      index += 1
      return false
    }
    return true
  }

  /// After an item of an object or array (`what`): true on a ',' (another item follows), false
  /// on `close` (the end); each stepped over.
  private mutating func nextItem(closedBy close: UInt8, in what: String) throws(Failure) -> Bool {
    skipWhitespace()
    let closing = { Character(Unicode.Scalar(close)) }
    guard index < bytes.count else { throw fail("the \(what) is not closed with '\(closing())'") }
    if bytes[index] == UInt8(ascii: ",") {
      index += 1
      return true
    }
    if bytes[index] == close {
      index += 1
      return false
    }
    throw fail("expected ',' or '\(closing())' in the \(what)")
  }

  private mutating func parseNumber() throws(Failure) -> String {
    let start = index
    if bytes[index] == UInt8(ascii: "-") { index += 1 }
    guard index < bytes.count, isDigit(bytes[index]) else { throw fail("a number needs digits") }
    if bytes[index] == UInt8(ascii: "0") {
      index += 1
    } else {
      while index < bytes.count, isDigit(bytes[index]) { index += 1 }
    }
    if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
      index += 1
      guard index < bytes.count, isDigit(bytes[index]) else {
        throw fail("a number needs digits after '.'")
      }
      while index < bytes.count, isDigit(bytes[index]) { index += 1 }
    }
    if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
      index += 1
      if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-")
      {
        index += 1
      }
      guard index < bytes.count, isDigit(bytes[index]) else {
        throw fail("a number needs digits in its exponent")
      }
      while index < bytes.count, isDigit(bytes[index]) { index += 1 }
    }
    return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
  }

  private func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

  private mutating func parseString() throws(Failure) -> String {
    index += 1
    let start = index
    // Fast path: no escapes, so the bytes between the quotes are the string.
    while index < bytes.count {
      let byte = bytes[index]
      if byte == UInt8(ascii: "\"") {
        let slice = UnsafeBufferPointer(rebasing: bytes[start..<index])
        guard let text = String(validating: slice, as: UTF8.self) else {
          throw fail("the string is not valid UTF-8")
        }
        index += 1
        return text
      }
      if byte == UInt8(ascii: "\\") { break }
      if byte < 0x20 { throw fail("a control character must be escaped inside a string") }
      index += 1
    }
    var scratch: [UInt8] = Array(UnsafeBufferPointer(rebasing: bytes[start..<index]))
    while index < bytes.count {
      let byte = bytes[index]
      if byte == UInt8(ascii: "\"") {
        guard let text = String(validating: scratch, as: UTF8.self) else {
          throw fail("the string is not valid UTF-8")
        }
        index += 1
        return text
      }
      if byte < 0x20 { throw fail("a control character must be escaped inside a string") }
      if byte != UInt8(ascii: "\\") {
        scratch.append(byte)
        index += 1
        continue
      }
      index += 1
      guard index < bytes.count else { break }
      let escape = bytes[index]
      index += 1
      switch escape {
      case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scratch.append(escape)
      case UInt8(ascii: "u"):
        var code = try parseHex4()
        if code >= 0xD800, code < 0xDC00 {
          guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"),
            bytes[index + 1] == UInt8(ascii: "u")
          else { throw fail("a high surrogate must be followed by a low surrogate") }
          index += 2
          let low = try parseHex4()
          guard low >= 0xDC00, low < 0xE000 else { throw fail("invalid low surrogate") }
          code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
        } else if code >= 0xDC00, code < 0xE000 {
          throw fail("a low surrogate without a high surrogate")
        }
        guard let scalar = Unicode.Scalar(code) else { throw fail("invalid \\u escape") }
        scratch.append(contentsOf: Array(String(Character(scalar)).utf8))
      default:
        guard let control = BackslashEscape.control(escape) else {
          throw fail("unknown escape '\\\(Character(Unicode.Scalar(escape)))'")
        }
        scratch.append(control)
      }
    }
    throw fail("the string is not closed with '\"'")
  }

  private mutating func parseHex4() throws(Failure) -> UInt32 {
    guard index + 4 <= bytes.count else { throw fail("\\u needs four hex digits") }
    var code: UInt32 = 0
    for _ in 0..<4 {
      guard let digit = BackslashEscape.hexDigit(bytes[index]) else {
        throw fail("\\u needs four hex digits")
      }
      code = code << 4 | UInt32(digit)
      index += 1
    }
    return code
  }
}
