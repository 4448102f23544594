import Foundation
import TestFixtures
import Testing

/// Paths and goldens of the tiny TroL fixtures, for the tokenizer and prompt tests.
enum TokenizerFixtures {
  /// `TestFixtures`: the repository's copy, or `$TROLLEY_FIXTURES`.
  static var root: String { TestFixtures.trolTiny }

  static func modelDirectory(_ family: String) -> String { "\(root)/\(family)/model" }

  static func expected(_ family: String) throws -> [String: Any] {
    let data = try Data(
      contentsOf: URL(fileURLWithPath: "\(root)/\(family)/expected/expected.json"))
    return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
  }

  static func text(_ family: String, _ name: String) throws -> String {
    try String(contentsOfFile: "\(root)/\(family)/\(name)", encoding: .utf8)
  }

  struct Golden {
    var text: String
    var ids: [Int]
    var tokens: [String]
    var idsAddSpecialTokens: [Int]?
    var decoded: String
    var decodedSkipSpecial: String
  }

  static func goldens(_ family: String) throws -> [Golden] {
    let entries = try #require(try expected(family)["tokenizer_goldens"] as? [[String: Any]])
    return try entries.map { e in
      Golden(
        text: try #require(e["text"] as? String),
        ids: try #require(e["ids"] as? [Int]),
        tokens: try #require(e["tokens"] as? [String]),
        idsAddSpecialTokens: e["ids_add_special_tokens"] as? [Int],
        decoded: try #require(e["decoded"] as? String),
        decodedSkipSpecial: try #require(e["decoded_skip_special"] as? String))
    }
  }
}
