import Foundation
import Testing
import TroL

@Suite struct SentencePieceTokenizerTests {
  let family = "internlm2"

  func load() throws -> SentencePieceTokenizer {
    try SentencePieceTokenizer(directory: TokenizerFixtures.modelDirectory(family))
  }

  @Test func everyGoldenEncodesAndDecodesExactly() throws {
    let tokenizer = try load()
    let goldens = try TokenizerFixtures.goldens(family)
    #expect(goldens.count == 66)
    for g in goldens {
      let ids = tokenizer.encode(g.text)
      #expect(ids == g.ids, "ids of \(g.text.debugDescription)")
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

  @Test func promptTextEncodesToTheGoldenIDs() throws {
    let tokenizer = try load()
    let prompt = try TokenizerFixtures.text(family, "prompt.txt")
    let expected = try #require(try TokenizerFixtures.expected(family)["prompt"] as? [String: Any])
    #expect(tokenizer.encode(prompt) == expected["ids"] as? [Int])
  }

  @Test func specialIDsAndVocabulary() throws {
    let tokenizer = try load()
    #expect(tokenizer.bosTokenID == 1)
    #expect(tokenizer.eosTokenID == 2)
    #expect(tokenizer.tokenID("<image>") == 520)
    #expect(tokenizer.tokenID("[UNUSED_TOKEN_145]") == 518)
    #expect(tokenizer.tokenID("[UNUSED_TOKEN_146]") == 519)
    #expect(tokenizer.tokenID("<unk>") == 0)
    #expect(tokenizer.tokenID("definitely not a piece") == nil)
    #expect(tokenizer.vocabularySize == 521)
    #expect(tokenizer.isSpecial(520) && tokenizer.isSpecial(2) && !tokenizer.isSpecial(518))
  }
}
