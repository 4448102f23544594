/// Reads RFC 4180 CSV records one at a time: comma-separated, fields optionally in double quotes,
/// `""` for a quote inside a quoted field, and line breaks (LF or CRLF) allowed inside quotes.
/// Blank lines are skipped; a UTF-8 byte-order mark at the start is ignored. With a tab as the
/// delimiter it reads TSV the same way (spreadsheets and pandas quote TSV fields like CSV ones).
public final class CSVRecordReader {
  /// One record: its fields, or why it could not be read; `line` is where the record starts.
  public enum Record: Sendable, Equatable {
    case fields(line: Int, [String])
    case malformed(line: Int, reason: String)
  }

  /// A quoted field that grows past this many bytes is treated as an unclosed quote.
  public static let maximumRecordBytes = 1 << 20

  private let lines: LineReader
  private let delimiter: UInt8
  private var isFirstLine = true

  /// Opens `path`.
  /// - Parameter delimiter: The field separator: a comma (CSV, the default) or a tab (TSV).
  /// - Throws: `CLIError.notFound` or `.io`.
  public init(path: String, delimiter: UInt8 = UInt8(ascii: ",")) throws(CLIError) {
    lines = try LineReader(path: path)
    self.delimiter = delimiter
  }

  /// The next record, or nil at the end of the file.
  /// - Throws: `CLIError.io` if the file cannot be read.
  public func next() throws(CLIError) -> Record? {
    var line: [UInt8]
    repeat {
      guard let next = try lines.nextLine() else { return nil }
      line = next
      if isFirstLine {
        isFirstLine = false
        if line.starts(with: [0xEF, 0xBB, 0xBF]) { line.removeFirst(3) }
      }
    } while line.isEmpty || line == [0x0D]
    let startLine = lines.lineNumber
    let quote = UInt8(ascii: "\"")
    let comma = delimiter
    let carriageReturn: UInt8 = 0x0D

    var fields: [String] = []
    var field: [UInt8] = []
    var index = 0
    var inQuotes = false
    var wasQuoted = false
    var recordBytes = 0

    func finishField() -> Bool {
      guard let text = String(validating: field, as: UTF8.self) else { return false }
      fields.append(text)
      field.removeAll(keepingCapacity: true)
      wasQuoted = false
      return true
    }

    while true {
      if inQuotes {
        if index == line.count {
          recordBytes += line.count + 1
          guard recordBytes <= Self.maximumRecordBytes, let next = try lines.nextLine() else {
            return .malformed(
              line: startLine,
              reason: "a quoted field is never closed; check that every opening \" has a closing \""
            )
          }
          field.append(0x0A)
          line = next
          index = 0
          continue
        }
        let byte = line[index]
        if byte == quote {
          if index + 1 < line.count, line[index + 1] == quote {
            field.append(quote)
            index += 2
          } else {
            inQuotes = false
            index += 1
          }
        } else {
          field.append(byte)
          index += 1
        }
        continue
      }
      if index == line.count {
        guard finishField() else {
          return .malformed(line: startLine, reason: "the record is not valid UTF-8 text")
        }
        return .fields(line: startLine, fields)
      }
      let byte = line[index]
      if byte == comma {
        guard finishField() else {
          return .malformed(line: startLine, reason: "the record is not valid UTF-8 text")
        }
        index += 1
      } else if byte == carriageReturn, index == line.count - 1 {
        index += 1
      } else if wasQuoted {
        return .malformed(
          line: startLine,
          reason: "text follows a closing quote; a field in quotes must end at the quote")
      } else if byte == quote {
        guard field.isEmpty else {
          return .malformed(
            line: startLine,
            reason: "a quote inside an unquoted field; put the field in double quotes and double "
              + "each quote inside it (\"\")")
        }
        inQuotes = true
        wasQuoted = true
        index += 1
      } else {
        field.append(byte)
        index += 1
      }
    }
  }
}
