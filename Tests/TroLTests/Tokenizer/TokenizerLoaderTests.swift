import Foundation
import TestFixtures
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

  /// A scratch folder holding only the first half of `family`'s tokenizer `file`: cut in the
  /// middle of a piece.
  private func folderWithTruncated(_ file: String, of family: String) throws -> TemporaryFolder {
    let folder = try TemporaryFolder(prefix: "trol-tok")
    let original = try Data(
      contentsOf: URL(fileURLWithPath: TokenizerFixtures.modelDirectory(family) + "/" + file))
    try original.prefix(original.count / 2).write(
      to: URL(fileURLWithPath: folder.path + "/" + file))
    return folder
  }

  @Test func corruptTokenizerModelIsAClearError() throws {
    let folder = try folderWithTruncated("tokenizer.model", of: "internlm2")
    let error = try #require(throws: TroLError.self) {
      _ = try TokenizerLoader.load(modelDirectory: folder.path)
    }
    #expect(error.code == .invalidTokenizer)
    // Random bytes.
    try Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) })
      .write(to: URL(fileURLWithPath: folder.path + "/tokenizer.model"))
    #expect(throws: TroLError.self) { _ = try TokenizerLoader.load(modelDirectory: folder.path) }
  }

  @Test func corruptTokenizerJSONIsAClearError() throws {
    let folder = try folderWithTruncated("tokenizer.json", of: "phi3")
    let error = try #require(throws: TroLError.self) {
      _ = try TokenizerLoader.load(modelDirectory: folder.path)
    }
    #expect(error.code == .invalidTokenizer)
  }
}
