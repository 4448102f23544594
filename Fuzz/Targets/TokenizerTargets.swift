import TroL

/// Text that reaches the byte fallback, added tokens, digits and whitespace runs.
private let sampleText = "Describe the image: <s> 12345 \u{00e9}t\u{00e9}  \n\t\u{1F680} end</s>"

private func exercise(_ tokenizer: any TextTokenizer) {
  let ids = tokenizer.encode(sampleText, addSpecialTokens: true)
  _ = tokenizer.decode(ids, skipSpecialTokens: false)
  _ = tokenizer.decode(ids, skipSpecialTokens: true)
  // Ids the file never defined must decode without trapping.
  _ = tokenizer.decode(
    [0, 1, 2, tokenizer.vocabularySize - 1, tokenizer.vocabularySize, -1], skipSpecialTokens: false)
}

func fuzzSentencePiece(_ bytes: [UInt8]) {
  ScratchFile.write(bytes, named: "tokenizer.model")
  guard let tokenizer = try? SentencePieceTokenizer(directory: ScratchFile.directory) else {
    return
  }
  exercise(tokenizer)
}

func fuzzTokenizerJSON(_ bytes: [UInt8]) {
  ScratchFile.write(bytes, named: "tokenizer.json")
  guard let tokenizer = try? HFTokenizer(directory: ScratchFile.directory) else { return }
  exercise(tokenizer)
}
