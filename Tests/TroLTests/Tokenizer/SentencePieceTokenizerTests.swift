import Foundation
import Testing
import TroL

@Suite struct SentencePieceTokenizerTests {
  func load() throws -> SentencePieceTokenizer { try TokenizerFixtures.internLM2() }

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
