import Foundation
import TestFixtures

/// Locates the golden fixtures (`TestFixtures`: the repository's copy, or `$TROLLEY_FIXTURES`)
/// and makes scratch folders for files the checkpoint tests generate.
enum CheckpointFixtures {
  static let root: String = TestFixtures.trolTiny

  static func model(_ family: String) -> String { "\(root)/\(family)/model" }
  static func expected(_ family: String, _ file: String) -> String {
    "\(root)/\(family)/expected/\(file)"
  }

  static func json(_ path: String) throws -> [String: Any] {
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
  }

  /// A fresh empty folder under the system temp dir.
  static func scratchFolder() throws -> String {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent(
      "trolley-checkpoint-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url.path
  }

  /// A unique path `<scratch>/<uuid>-<name>` in a folder shared by the whole test run
  /// (callers delete their file).
  static func scratchFile(_ name: String) throws -> String {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "trolley-checkpoint-tests"
    ).path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    return "\(folder)/\(UUID().uuidString)-\(name)"
  }

  static func write(_ bytes: [UInt8], to path: String) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
  }

  /// The README's key table: `| \`key\` | [a, b] | F16 |` rows.
  static func readmeTensors(_ family: String) throws -> [String: (shape: [Int], dtype: String)] {
    let text = try String(contentsOfFile: "\(root)/\(family)/README.md", encoding: .utf8)
    let marker = "## model/model.safetensors"
    let section =
      text.components(separatedBy: marker).dropFirst().first?.components(separatedBy: "\n## ").first
      ?? ""
    var result: [String: (shape: [Int], dtype: String)] = [:]
    for line in section.split(separator: "\n") where line.hasPrefix("| `") {
      let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
      guard cells.count == 3 else { continue }
      let name = cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
      let shape = cells[1].trimmingCharacters(in: CharacterSet(charactersIn: "[]")).split(
        separator: ","
      ).compactMap {
        Int($0.trimmingCharacters(in: .whitespaces))
      }
      result[name] = (shape, cells[2])
    }
    return result
  }
}
