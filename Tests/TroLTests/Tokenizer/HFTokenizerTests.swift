import Foundation
import Testing
import TroL

@Suite struct HFTokenizerTests {
  func load() throws -> HFTokenizer { try TokenizerFixtures.phi3() }

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
