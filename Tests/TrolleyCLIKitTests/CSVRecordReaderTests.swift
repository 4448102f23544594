import Foundation
import TestFixtures
import Testing

@testable import TrolleyCLIKit

struct CSVRecordReaderTests {
  private func records(_ text: String) throws -> [CSVRecordReader.Record] {
    let folder = try TemporaryFolder()
    let reader = try CSVRecordReader(path: try folder.write("m.csv", text))
    var out: [CSVRecordReader.Record] = []
    while let record = try reader.next() { out.append(record) }
    return out
  }

  @Test func readsQuotedCommasQuotesAndLineBreaks() throws {
    let text = "\u{FEFF}a,b,c\r\n\"x, y\",\"say \"\"hi\"\"\",\"two\r\nlines\"\r\n\r\nplain,,é\n"
    #expect(
      try records(text) == [
        .fields(line: 1, ["a", "b", "c"]),
        .fields(line: 2, ["x, y", "say \"hi\"", "two\r\nlines"]),
        .fields(line: 5, ["plain", "", "é"]),
      ])
  }

  @Test func reportsMalformedRecordsAndCarriesOn() throws {
    let result = try records("a,b\nx\"y,1\n\"q\"z,2\nok,3\n\"never closed,4\nmore\n")
    #expect(result.count == 5)
    #expect(result[0] == .fields(line: 1, ["a", "b"]))
    guard case .malformed(2, _) = result[1], case .malformed(3, _) = result[2] else {
      Issue.record("expected malformed lines 2 and 3, got \(result)")
      return
    }
    #expect(result[3] == .fields(line: 4, ["ok", "3"]))
    guard case .malformed(5, let reason) = result[4] else {
      Issue.record("expected an unclosed quote at line 5, got \(result[4])")
      return
    }
    #expect(reason.contains("never closed"))
  }

  @Test func reportsInvalidUTF8() throws {
    let folder = try TemporaryFolder()
    let path = try folder.write("m.csv", "a\n")
    let handle = try #require(FileHandleLite(path: path))
    handle.append([0xFF, 0xFE, 0x0A, 0x6F, 0x6B, 0x0A])
    let reader = try CSVRecordReader(path: path)
    #expect(try reader.next() == .fields(line: 1, ["a"]))
    guard case .malformed(2, _) = try reader.next() else {
      Issue.record("invalid UTF-8 must be a malformed record")
      return
    }
    #expect(try reader.next() == .fields(line: 3, ["ok"]))
  }
}

/// Appends raw bytes to a file (for writing invalid UTF-8).
struct FileHandleLite {
  let path: String
  init?(path: String) { self.path = path }
  func append(_ bytes: [UInt8]) {
    let descriptor = open(path, O_WRONLY | O_APPEND)
    _ = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    close(descriptor)
  }
}
