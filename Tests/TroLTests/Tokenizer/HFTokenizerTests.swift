import Foundation
import Testing
import TroL

@Suite struct HFTokenizerTests {
  let family = "phi3"

  func load() throws -> HFTokenizer {
    try HFTokenizer(directory: TokenizerFixtures.modelDirectory(family))
  }

  @Test func everyGoldenEncodesAndDecodesExactly() throws {
    let tokenizer = try load()
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

  @Test func promptTextEncodesToTheGoldenIDs() throws {
    let tokenizer = try load()
    let prompt = try TokenizerFixtures.text(family, "prompt.txt")
    let expected = try #require(try TokenizerFixtures.expected(family)["prompt"] as? [String: Any])
    #expect(tokenizer.encode(prompt) == expected["ids"] as? [Int])
  }

  /// Rows beyond the tokenizer (Phi-3's padded LM head) can be generated; fast decode drops them.
  @Test func idsBeyondTheVocabularyAreDropped() throws {
    let tokenizer = try load()
    let hello = tokenizer.encode("Hello")
    #expect(tokenizer.decode(hello + [500, 511, -1], skipSpecialTokens: false) == "Hello")
    #expect(tokenizer.token(forID: 500) == nil)
  }

  @Test func specialIDsAndVocabulary() throws {
    let tokenizer = try load()
    #expect(tokenizer.bosTokenID == 1)
    #expect(tokenizer.eosTokenID == 2)
    #expect(tokenizer.tokenID("<IMG_CONTEXT>") == 493)
    #expect(tokenizer.tokenID("<|end|>") == 487)
    #expect(tokenizer.tokenID("<|assistant|>") == 481)
    #expect(tokenizer.tokenID("no such token") == nil)
    #expect(tokenizer.vocabularySize == 500)
    // `</s>` is special=false in tokenizer.json but transformers re-adds it as eos.
    #expect(tokenizer.isSpecial(2) && tokenizer.isSpecial(487) && !tokenizer.isSpecial(300))
  }
}
