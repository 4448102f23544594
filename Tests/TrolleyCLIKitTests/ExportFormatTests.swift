import Foundation
import TestFixtures
import Testing
import TrolleyBasics
import TrolleyJobContracts

@testable import TrolleyCLIKit

struct ExportFormatTests {
  private let nasty = [
    "comma, \"quote\", and\nnewline", "crlf\r\nline", " leading space", "日本語 🐈‍⬛ é", "",
    "\\back\\slash",
  ]

  private func record(_ index: Int, text: String) -> ExportRecord {
    var values = [JSONValue](repeating: .null, count: ExportRecord.columns.count)
    values[0] = .number(String(index))
    values[5] = .string("/img/\(index).jpg")
    values[6] = .string(text)
    values[7] = .string(text + "!")
    values[11] = .object([JSONValue.Member("total_ms", .number("12.5"))])
    return ExportRecord(values: values)
  }

  /// Writes every nasty record as `format` to `file` in `folder` and returns the file's path.
  private func writeNasty(_ format: ExportFormat, to file: String, in folder: TemporaryFolder)
    throws -> String
  {
    let path = folder.path + "/" + file
    let output = try OutputFile(path: path)
    var writer = RecordWriter(format: format, output: output)
    for (index, text) in nasty.enumerated() { try writer.write(record(index, text: text)) }
    try output.commit()
    return path
  }

  @Test func csvRoundTripsThroughTheManifestParser() throws {
    let folder = try TemporaryFolder()
    let path = try writeNasty(.csv, to: "out.csv", in: folder)
    let reader = try CSVRecordReader(path: path)
    guard case .fields(_, let header) = try #require(try reader.next()) else {
      Issue.record("no header")
      return
    }
    #expect(header == ExportRecord.columns)
    for (index, text) in nasty.enumerated() {
      guard case .fields(_, let fields) = try #require(try reader.next()) else {
        Issue.record("record \(index) malformed")
        return
      }
      #expect(fields[0] == String(index))
      #expect(fields[6] == text)
      #expect(fields[7] == text + "!")
      #expect(fields[11] == #"{"total_ms":12.5}"#)
      #expect(fields[8] == "")
    }
    #expect(try reader.next() == nil)
  }

  @Test func jsonlRoundTrips() throws {
    let folder = try TemporaryFolder()
    let path = try writeNasty(.jsonl, to: "out.jsonl", in: folder)
    let lines = try LineReader(path: path)
    for (index, text) in nasty.enumerated() {
      let line = try #require(try lines.nextLine())
      let value = try JSONParser.parse(String(decoding: line, as: UTF8.self))
      #expect(try ExportRecord(object: value) == record(index, text: text))
    }
    #expect(try lines.nextLine() == nil)
  }

  @Test func aFileAppearsOnlyOnCommitAndAbortLeavesNothing() throws {
    let folder = try TemporaryFolder()
    let path = folder.path + "/out.jsonl"
    try Data("old\n".utf8).write(to: URL(fileURLWithPath: path))
    let output = try OutputFile(path: path)
    try output.write("new\n")
    try output.flush()
    #expect(try String(contentsOfFile: path, encoding: .utf8) == "old\n")
    output.abort()
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["out.jsonl"])
    let second = try OutputFile(path: path)
    try second.write("new\n")
    try second.commit()
    #expect(try String(contentsOfFile: path, encoding: .utf8) == "new\n")
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["out.jsonl"])
  }

  @Test func outputToAMissingFolderSaysSo() {
    #expect(throws: CLIError(.notFound, "")) { _ = try OutputFile(path: "/no/such/folder/out.csv") }
  }

  @Test func copyTextEscapesAreUndone() {
    let escaped = Array(#"a\\b\nc\td\011e\x41"#.utf8)
    let result = escaped.withUnsafeBufferPointer { CopyTextDecoder.unescape($0) }
    #expect(result.map { String(decoding: $0, as: UTF8.self) } == "a\\b\nc\td\te" + "A")
    let null = Array(#"\N"#.utf8).withUnsafeBufferPointer { CopyTextDecoder.unescape($0) }
    #expect(null == nil)
  }
}
