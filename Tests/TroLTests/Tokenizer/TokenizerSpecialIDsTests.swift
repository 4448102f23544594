import Testing
import TroL

/// Both fixture tokenizers' special ids and vocabulary, as the reference tokenizers give them.
@Suite struct TokenizerSpecialIDsTests {
  struct Expected: Sendable, CustomTestStringConvertible {
    /// The fixture family whose tokenizer is loaded.
    var family: String
    /// Token texts and their ids; nil: not a token.
    var ids: [(token: String, id: Int?)]
    var vocabularySize: Int
    var special: [Int]
    var notSpecial: [Int]
    var testDescription: String { family }
  }

  static let expectations = [
    Expected(
      family: "internlm2",
      ids: [
        ("<image>", 520), ("[UNUSED_TOKEN_145]", 518), ("[UNUSED_TOKEN_146]", 519), ("<unk>", 0),
        ("definitely not a piece", nil),
      ],
      vocabularySize: 521, special: [520, 2], notSpecial: [518]),
    // `</s>` (2) is special=false in Phi-3's tokenizer.json but transformers re-adds it as eos.
    Expected(
      family: "phi3",
      ids: [
        ("<IMG_CONTEXT>", 493), ("<|end|>", 487), ("<|assistant|>", 481), ("no such token", nil),
      ],
      vocabularySize: 500, special: [2, 487], notSpecial: [300]),
  ]

  @Test(arguments: expectations)
  func specialIDsAndVocabulary(_ expected: Expected) throws {
    let tokenizer: any TextTokenizer =
      expected.family == "phi3" ? try TokenizerFixtures.phi3() : try TokenizerFixtures.internLM2()
    #expect(tokenizer.bosTokenID == 1)
    #expect(tokenizer.eosTokenID == 2)
    for (token, id) in expected.ids { #expect(tokenizer.tokenID(token) == id, "\(token)") }
    #expect(tokenizer.vocabularySize == expected.vocabularySize)
    for id in expected.special { #expect(tokenizer.isSpecial(id), "\(id)") }
    for id in expected.notSpecial { #expect(!tokenizer.isSpecial(id), "\(id)") }
  }
}
