import Foundation
import Testing
import TroL
import TrolleyBasics

@Suite struct TokenizerLoaderTests {
  @Test func picksEachFamilysTokenizer() throws {
    let internlm2 = try TokenizerLoader.load(
      modelDirectory: TokenizerFixtures.modelDirectory("internlm2"))
    #expect(internlm2 is SentencePieceTokenizer)
    // The Phi-3 directory has both tokenizer.model and tokenizer.json; the config decides.
    let phi3 = try TokenizerLoader.load(modelDirectory: TokenizerFixtures.modelDirectory("phi3"))
    #expect(phi3 is HFTokenizer)
  }

  @Test func missingDirectoryIsAClearError() throws {
    let error = try #require(throws: TroLError.self) {
      _ = try TokenizerLoader.load(modelDirectory: "/nonexistent/model")
    }
    #expect(error.code == .invalidTokenizer)
    #expect(error.message.contains("/nonexistent/model"))
  }

  @Test func corruptTokenizerModelIsAClearError() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "trol-tok-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let original = try Data(
      contentsOf: URL(
        fileURLWithPath: TokenizerFixtures.modelDirectory("internlm2") + "/tokenizer.model"))
    // Truncated in the middle of a piece.
    try original.prefix(original.count / 2).write(to: dir.appendingPathComponent("tokenizer.model"))
    let error = try #require(throws: TroLError.self) {
      _ = try TokenizerLoader.load(modelDirectory: dir.path)
    }
    #expect(error.code == .invalidTokenizer)
    // Random bytes.
    try Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) })
      .write(to: dir.appendingPathComponent("tokenizer.model"))
    #expect(throws: TroLError.self) { _ = try TokenizerLoader.load(modelDirectory: dir.path) }
  }

  @Test func corruptTokenizerJSONIsAClearError() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "trol-tok-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let original = try Data(
      contentsOf: URL(fileURLWithPath: TokenizerFixtures.modelDirectory("phi3") + "/tokenizer.json")
    )
    try original.prefix(original.count / 2).write(to: dir.appendingPathComponent("tokenizer.json"))
    let error = try #require(throws: TroLError.self) {
      _ = try TokenizerLoader.load(modelDirectory: dir.path)
    }
    #expect(error.code == .invalidTokenizer)
  }
}
