import Foundation
import Testing
import Training

@testable import TrolleyWorkers

/// The LLaVA reader keeps every human/gpt pair of an entry (`--turns each` trains them all,
/// `first` the first), skips a human turn with no answer, and names an entry with no pair.
@Suite struct LLaVADataTests {
  static func file(_ json: String) throws -> String {
    let path = NSTemporaryDirectory() + "llava-\(UUID().uuidString).json"
    try json.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  @Test func everyQuestionOfAnEntryIsKept() throws {
    let path = try Self.file(
      """
      [{"id": "a", "image": "images/a.png", "conversations": [
         {"from": "human", "value": "<image>\\nwhat shape?"}, {"from": "gpt", "value": "circle"},
         {"from": "human", "value": "is it red?"},
         {"from": "human", "value": "<image>\\nis it blue?"}, {"from": "gpt", "value": "no"}]},
       {"id": 7, "image": "/abs/b.png", "conversations": [
         {"from": "human", "value": "what colour?\\n<image>"}, {"from": "gpt", "value": "red"}]}]
      """)
    defer { try? FileManager.default.removeItem(atPath: path) }
    let examples = try LLaVAData.examples(path: path)
    #expect(examples.count == 2)
    let a = examples[0]
    #expect(
      a.id == "a" && a.image == (path as NSString).deletingLastPathComponent + "/images/a.png")
    #expect(a.question == "what shape?" && a.answer == "circle")
    #expect(a.turns.map(\.question) == ["what shape?", "is it blue?"])
    #expect(a.turns.map(\.answer) == ["circle", "no"])
    #expect(a.turns(.first).count == 1 && a.turns(.each).count == 2)
    #expect(examples[1].id == "7" && examples[1].image == "/abs/b.png")
    #expect(examples[1].turns.map(\.question) == ["what colour?"])
  }

  @Test func anEntryWithoutAnAnsweredQuestionIsNamed() throws {
    let path = try Self.file(
      #"[{"id": "x", "conversations": [{"from": "gpt", "value": "hi"}, {"from": "human", "value": "q"}]}]"#
    )
    defer { try? FileManager.default.removeItem(atPath: path) }
    #expect {
      _ = try LLaVAData.examples(path: path)
    } throws: { error in
      "\(error)".contains("entry 0 has no human turn followed by a gpt turn")
    }
  }
}
