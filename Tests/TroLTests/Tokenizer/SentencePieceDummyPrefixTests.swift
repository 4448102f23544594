import Foundation
import Testing
import TroL

/// The Phi-3 fixture's `tokenizer.model` is the SentencePiece model its `tokenizer.json` was
/// converted from (Llama style: add_dummy_prefix=true). On text without added tokens both must
/// give the same ids and text, which checks the dummy-prefix paths of encoding and decoding
/// against the fast tokenizer's goldens.
@Suite struct SentencePieceDummyPrefixTests {
  @Test func sentencePieceModelAgreesWithTheFastTokenizerGoldens() throws {
    let tokenizer = try SentencePieceTokenizer(directory: TokenizerFixtures.modelDirectory("phi3"))
    var checked = 0
    for g in try TokenizerFixtures.goldens("phi3")
    where !g.text.contains("<") && !g.text.contains("[") {
      #expect(tokenizer.encode(g.text) == g.ids, "ids of \(g.text.debugDescription)")
      #expect(
        tokenizer.decode(g.ids, skipSpecialTokens: false) == g.decoded,
        "text of \(g.text.debugDescription)")
      checked += 1
    }
    #expect(checked > 40)
  }
}
