import Foundation
import TestFixtures
import Testing
import TrolleyCLIKit

/// Issue 13, item 11: exports may hold private results. A new export is its owner's alone (0600,
/// whatever the umask); one that replaces a file keeps that file's permissions.
struct OutputFilePermissionsTests {
  static func mode(_ path: String) throws -> Int {
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    return try #require(attributes[.posixPermissions] as? Int)
  }

  @Test func aNewExportIsReadableByItsOwnerOnly() throws {
    let folder = try TemporaryFolder()
    let path = folder.path + "/results.jsonl"
    let previous = umask(0o022)
    defer { umask(previous) }
    let output = try OutputFile(path: path)
    try output.commit()
    #expect(try Self.mode(path) == 0o600)
  }

  @Test func aReplacedExportKeepsThePermissionsOfTheFileItReplaces() throws {
    let folder = try TemporaryFolder()
    let path = folder.path + "/results.jsonl"
    FileManager.default.createFile(atPath: path, contents: Data("old\n".utf8))
    try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: path)
    let output = try OutputFile(path: path)
    try output.commit()
    #expect(try Self.mode(path) == 0o640)
    #expect(try String(contentsOfFile: path, encoding: .utf8).isEmpty)
  }
}
