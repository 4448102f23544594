import Foundation
import TestFixtures
import Testing
import TroL

/// Paths and goldens of the tiny TroL fixtures, for the tokenizer and prompt tests.
enum TokenizerFixtures {
  /// `TestFixtures`: the repository's copy, or `$TROLLEY_FIXTURES`.
  static var root: String { TestFixtures.trolTiny }

  static func modelDirectory(_ family: String) -> String { "\(root)/\(family)/model" }

  /// The InternLM2 family's SentencePiece tokenizer.
  static func internLM2() throws -> SentencePieceTokenizer {
    try SentencePieceTokenizer(directory: modelDirectory("internlm2"))
  }

  /// The Phi-3 family's Hugging Face tokenizer.
  static func phi3() throws -> HFTokenizer { try HFTokenizer(directory: modelDirectory("phi3")) }

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

/// The reference goldens of both families' tokenizers (`expected.json`), one test per family.
@Suite struct TokenizerGoldenTests {
  static func load(_ family: String) throws -> any TextTokenizer {
    family == "phi3" ? try TokenizerFixtures.phi3() : try TokenizerFixtures.internLM2()
  }

  @Test(arguments: ["internlm2", "phi3"])
  func everyGoldenEncodesAndDecodesExactly(family: String) throws {
    let tokenizer = try Self.load(family)
    let goldens = try TokenizerFixtures.goldens(family)
    #expect(goldens.count == 66)
    for g in goldens {
      #expect(tokenizer.encode(g.text) == g.ids, "ids of \(g.text.debugDescription)")
      #expect(tokenizer.tokens(forIDs: g.ids) == g.tokens, "tokens of \(g.text.debugDescription)")
      if let withSpecial = g.idsAddSpecialTokens {
        #expect(
          tokenizer.encode(g.text, addSpecialTokens: true) == withSpecial,
          "\(g.text.debugDescription)")
      }
      #expect(
        tokenizer.decode(g.ids, skipSpecialTokens: false) == g.decoded,
        "decode of \(g.text.debugDescription)")
      #expect(
        tokenizer.decode(g.ids, skipSpecialTokens: true) == g.decodedSkipSpecial,
        "decode(skip) of \(g.text.debugDescription)")
    }
  }

  @Test(arguments: ["internlm2", "phi3"])
  func promptTextEncodesToTheGoldenIDs(family: String) throws {
    let tokenizer = try Self.load(family)
    let prompt = try TokenizerFixtures.text(family, "prompt.txt")
    let expected = try #require(try TokenizerFixtures.expected(family)["prompt"] as? [String: Any])
    #expect(tokenizer.encode(prompt) == expected["ids"] as? [Int])
  }
}
