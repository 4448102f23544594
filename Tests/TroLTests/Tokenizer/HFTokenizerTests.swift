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
}
