import Foundation
import Testing
import TroL
import TrolleyBasics

/// Damaged tokenizer files must give a `TroLError` or a working tokenizer, never a crash.
@Suite struct TokenizerCorruptionTests {
  /// A copy of a fixture model folder that a test may damage.
  func scratchCopy(of family: String) throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "trol-tokfuzz-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let source = URL(fileURLWithPath: TokenizerFixtures.modelDirectory(family))
    for name in [
      "tokenizer.model", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
      "added_tokens.json", "config.json",
    ] {
      let file = source.appendingPathComponent(name)
      if FileManager.default.fileExists(atPath: file.path) {
        try FileManager.default.copyItem(at: file, to: dir.appendingPathComponent(name))
      }
    }
    return dir
  }

  /// Loads and, if that works, exercises the tokenizer.
  func loadAndUse(_ dir: URL) -> Bool {
    do {
      let tokenizer = try TokenizerLoader.load(modelDirectory: dir.path)
      let ids = tokenizer.encode(
        "<s>Hello  wörld 😀 <image><|end|>\n[UNUSED_TOKEN_145]", addSpecialTokens: true)
      _ = tokenizer.decode(ids + [0, 1, 2, 3, 300, 100_000, -1], skipSpecialTokens: false)
      _ = tokenizer.decode(Array(0..<min(tokenizer.vocabularySize, 600)), skipSpecialTokens: true)
      return true
    } catch {
      #expect(error is TroLError, "\(error)")
      return false
    }
  }

  @Test(arguments: [("internlm2", "tokenizer.model"), ("phi3", "tokenizer.json")])
  func flippedAndTruncatedBytes(family: String, file: String) throws {
    let dir = try scratchCopy(of: family)
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent(file)
    let original = [UInt8](try Data(contentsOf: path))
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    func next() -> Int {
      state ^= state << 13
      state ^= state >> 7
      state ^= state << 17
      return Int(truncatingIfNeeded: state >> 1)
    }
    var loaded = 0
    for round in 0..<120 {
      var bytes = original
      if round % 3 == 0 {
        bytes = Array(bytes.prefix(next() % bytes.count))
      } else {
        for _ in 0..<(1 + next() % 8) {
          bytes[next() % bytes.count] ^= UInt8(truncatingIfNeeded: 1 << (next() % 8))
        }
      }
      try Data(bytes).write(to: path)
      if loadAndUse(dir) { loaded += 1 }
    }
    // Some flips land in scores or text and leave a usable file; truncations never do.
    #expect(loaded < 120)
  }

  @Test func addedTokenIDsOutOfRangeAreRejected() throws {
    for bad in [#"{"<x>": 99999999999}"#, #"{"<x>": -1}"#, #"{"<x>": "520"}"#] {
      let dir = try scratchCopy(of: "internlm2")
      defer { try? FileManager.default.removeItem(at: dir) }
      try Data(bad.utf8).write(to: dir.appendingPathComponent("added_tokens.json"))
      let error = try #require(throws: TroLError.self) {
        _ = try TokenizerLoader.load(modelDirectory: dir.path)
      }
      #expect(error.code == .invalidTokenizer)
      #expect(error.message.contains("added_tokens.json"))
    }
  }

  @Test func vocabularyIDsOutOfRangeAreRejected() throws {
    let dir = try scratchCopy(of: "phi3")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("tokenizer.json")
    var json = try #require(
      try JSONSerialization.jsonObject(with: Data(contentsOf: path)) as? [String: Any])
    var model = try #require(json["model"] as? [String: Any])
    var vocab = try #require(model["vocab"] as? [String: Any])
    vocab["huge"] = 1 << 40
    model["vocab"] = vocab
    json["model"] = model
    try JSONSerialization.data(withJSONObject: json).write(to: path)
    let error = try #require(throws: TroLError.self) {
      _ = try TokenizerLoader.load(modelDirectory: dir.path)
    }
    #expect(error.code == .invalidTokenizer)
  }
}
