import Foundation
import Tensor
import TestFixtures
import Testing
import TroL

@testable import TroLSynthesis

@Suite struct ModelSynthesizerTests {
  func temporaryDirectory(_ name: String) -> String {
    let path = NSTemporaryDirectory() + "trolley-synth-\(name)-\(UUID().uuidString)"
    return path
  }

  /// Writes `files` (name and contents) into a fresh directory and loads the tokenizer there.
  func loadTokenizer(_ name: String, files: [(String, Data)]) throws -> any TextTokenizer {
    let directory = temporaryDirectory(name)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    for (file, contents) in files {
      try contents.write(to: URL(fileURLWithPath: directory + "/" + file))
    }
    return try TokenizerLoader.load(modelDirectory: directory)
  }

  @Test func tinyCheckpointLoadsAndAnswers() throws {
    let directory = temporaryDirectory("tiny")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try ModelSynthesizer.write(.tiny, to: directory, seed: 3)
    let engine = try TroLEngine.load(modelDirectory: directory, weights: .f16)
    #expect(engine.model.family == .internLM2)
    #expect(engine.model.shape.vocabulary == 520)
    let result = try answerFixtureImage(engine, maxNewTokens: 6)
    #expect(result.promptTokenIDs.filter { $0 == 520 }.count == 16)
    #expect(!result.tokenIDs.isEmpty)
    // The same seed writes the same weights.
    let again = temporaryDirectory("tiny-again")
    defer { try? FileManager.default.removeItem(atPath: again) }
    try ModelSynthesizer.write(.tiny, to: again, seed: 3)
    let a = try Data(contentsOf: URL(fileURLWithPath: directory + "/model.safetensors"))
    let b = try Data(contentsOf: URL(fileURLWithPath: again + "/model.safetensors"))
    #expect(a == b)
  }

  @Test func internLM2TokenizerHasTheRealIDs() throws {
    let tokenizer = try loadTokenizer(
      "sp",
      files: [
        ("tokenizer.model", SentencePieceSynth.model(vocabulary: 92544)),
        ("added_tokens.json", Data("{\"<image>\": 92544}".utf8)),
        ("tokenizer_config.json", SentencePieceSynth.tokenizerConfig(imageID: 92544)),
        ("special_tokens_map.json", SentencePieceSynth.specialTokensMap),
      ])
    #expect(tokenizer.tokenID("[UNUSED_TOKEN_145]") == 92542)
    #expect(tokenizer.tokenID("[UNUSED_TOKEN_146]") == 92543)
    #expect(tokenizer.tokenID("<image>") == 92544)
    #expect(tokenizer.eosTokenID == 2)
    let ids = tokenizer.encode("Hello, world!")
    #expect(tokenizer.decode(ids) == "Hello, world!")
  }

  @Test func phi3TokenizerHasTheRealIDs() throws {
    let tokenizer = try loadTokenizer(
      "phi3",
      files: [
        ("tokenizer.json", Phi3TokenizerSynth.tokenizerJSON(baseVocabulary: 32000)),
        ("tokenizer_config.json", Phi3TokenizerSynth.tokenizerConfig(baseVocabulary: 32000)),
        ("added_tokens.json", Phi3TokenizerSynth.addedTokens(baseVocabulary: 32000)),
        ("special_tokens_map.json", Phi3TokenizerSynth.specialTokensMap),
      ])
    #expect(tokenizer.tokenID("<|user|>") == 32010)
    #expect(tokenizer.tokenID("<IMG_CONTEXT>") == 32013)
    #expect(tokenizer.eosTokenID == 2)
    let ids = tokenizer.encode("Hello world")
    #expect(tokenizer.decode(ids) == "Hello world")
  }
}
