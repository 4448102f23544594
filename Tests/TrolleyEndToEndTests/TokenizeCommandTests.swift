import Foundation
import TestFixtures
import Testing

/// `trolley tokenize` on the golden fixture tokenizers, through the real binary.
@Suite struct TokenizeCommandTests {
  static let fixtures: String = TestFixtures.trolTiny

  func golden(_ family: String, _ text: String) throws -> [String: Any] {
    let data = try Data(
      contentsOf: URL(fileURLWithPath: "\(Self.fixtures)/\(family)/expected/expected.json"))
    let expected = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    let goldens = try #require(expected["tokenizer_goldens"] as? [[String: Any]])
    return try #require(goldens.first { $0["text"] as? String == text })
  }

  @Test(arguments: ["internlm2", "phi3"])
  func encodesAndDecodesLikeTheReference(family: String) throws {
    let model = "\(Self.fixtures)/\(family)/model"
    let text = "<|user|>\nHello<|end|>\n<|assistant|>\n"
    let g = try golden(family, text)
    let encoded = try TrolleyBinary.run(["tokenize", "--model", model, text])
    #expect(encoded.status == 0, "\(encoded.stderr)")
    #expect(try encoded.json() as? [Int] == g["ids"] as? [Int])

    let ids = try #require(g["ids"] as? [Int]).map(String.init).joined(separator: ",")
    let decoded = try TrolleyBinary.run(["tokenize", "--model", model, "--decode", ids])
    #expect(decoded.status == 0, "\(decoded.stderr)")
    let string = try JSONSerialization.jsonObject(
      with: Data(decoded.stdout.utf8), options: .fragmentsAllowed)
    #expect(string as? String == g["decoded"] as? String)

    let withBOS = try TrolleyBinary.run([
      "tokenize", "--model", model, "--add-special-tokens", text,
    ])
    #expect(try withBOS.json() as? [Int] == g["ids_add_special_tokens"] as? [Int])
  }

  @Test func batchLinesEncodeStringsAndDecodeArrays() throws {
    let model = "\(Self.fixtures)/phi3/model"
    let run = try TrolleyBinary.run(
      ["tokenize", "--model", model, "--jsonl", "-", "--skip-special-tokens"],
      input: "\"Hello\"\n[1, 490, 354, 469, 355, 366, 366, 362]\n")
    #expect(run.status == 0, "\(run.stderr)")
    let lines = run.stdout.split(separator: "\n").map(String.init)
    #expect(lines == [#"[354,469,355,366,366,362]"#, #""Hello""#])
  }

  @Test func badInputIsAUsageError() throws {
    let model = "\(Self.fixtures)/internlm2/model"
    let bad = try TrolleyBinary.run(["tokenize", "--model", model, "--decode", "1,x"])
    #expect(bad.status == 2)
    #expect(bad.stderr.contains("is not an integer"), "\(bad.stderr)")
    let missing = try TrolleyBinary.run(["tokenize", "--model", "/nonexistent", "hi"])
    #expect(missing.status == 1)
    #expect(missing.stderr.contains("/nonexistent"), "\(missing.stderr)")
  }
}
