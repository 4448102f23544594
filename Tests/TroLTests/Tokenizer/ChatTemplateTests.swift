import Foundation
import Testing
import TroL
import TrolleyBasics

@Suite struct ChatTemplateTests {
  /// Image tokens of the fixtures: InternLM2 (img_size / 14)^2; Phi-3 tiles × (tile / 14)^2 / 4.
  func imageTokens(_ family: String) throws -> Int {
    let config = try #require(
      try JSONSerialization.jsonObject(
        with: Data(
          contentsOf: URL(
            fileURLWithPath: TokenizerFixtures.modelDirectory(family) + "/config.json")))
        as? [String: Any])
    if family == "internlm2" {
      let side = try #require(config["img_size"] as? Int) / 14
      return side * side
    }
    let tile = try #require(config["force_image_size"] as? Int) / 14
    let image = try #require(try TokenizerFixtures.expected(family)["image"] as? [String: Any])
    let tiles = try #require(image["num_tiles"] as? Int)
    return tiles * tile * tile / 4
  }

  @Test(arguments: ["internlm2", "phi3"])
  func buildsTheReferencePromptAndIDs(family: String) throws {
    let template = family == "internlm2" ? ChatTemplate.internLM2 : ChatTemplate.phi3
    let question = try TokenizerFixtures.text(family, "question.txt")
    let prompt = try template.prompt(question: question, imageTokens: try imageTokens(family))
    #expect(prompt == (try TokenizerFixtures.text(family, "prompt.txt")))
    let tokenizer = try TokenizerLoader.load(
      modelDirectory: TokenizerFixtures.modelDirectory(family))
    let expected = try #require(try TokenizerFixtures.expected(family)["prompt"] as? [String: Any])
    let ids = tokenizer.encode(prompt)
    #expect(ids == expected["ids"] as? [Int])
    let imageID = try #require(tokenizer.tokenID(template.imageToken))
    #expect(imageID == expected["image_token_id"] as? Int)
    let span = try #require(expected["image_token_span"] as? [Int])
    #expect(ids.indices.filter { ids[$0] == imageID } == Array(span[0]..<span[1]))
  }

  @Test func textOnlyPromptHasNoImageTokens() throws {
    let prompt = try ChatTemplate.internLM2.prompt(question: "Hi", imageTokens: nil)
    #expect(
      prompt
        == "<s>[UNUSED_TOKEN_146]system\n\(ChatTemplate.systemPrompt)[UNUSED_TOKEN_145]\n[UNUSED_TOKEN_146]user\nHi[UNUSED_TOKEN_145]\n[UNUSED_TOKEN_146]assistant\n"
    )
    let phi3 = try ChatTemplate.phi3.prompt(question: "Hi", imageTokens: nil)
    #expect(
      phi3
        == "<s><|system|>\n\(ChatTemplate.systemPrompt)<|end|>\n<|user|>\nHi<|end|>\n<|assistant|>\n"
    )
  }

  @Test func placeholderInTheQuestionIsKeptWhereItIs() throws {
    let prompt = try ChatTemplate.phi3.prompt(question: "Look: <image> what?", imageTokens: 2)
    #expect(prompt.contains("<|user|>\nLook: <img><IMG_CONTEXT><IMG_CONTEXT></img> what?<|end|>"))
  }

  @Test func placeholderWithoutImageIsRejected() throws {
    let error = try #require(throws: TroLError.self) {
      _ = try ChatTemplate.internLM2.prompt(question: "<image> what?", imageTokens: nil)
    }
    #expect(error.code == .invalidRequest)
    #expect(throws: TroLError.self) {
      _ = try ChatTemplate.phi3.prompt(question: "x", imageTokens: 0)
    }
  }

  @Test func extractsTheAnswerLikeOutputFiltering() {
    let i = ChatTemplate.internLM2
    #expect(
      i.extractAnswer(
        from:
          " <s>[UNUSED_TOKEN_146]system\nS[UNUSED_TOKEN_145]\n[UNUSED_TOKEN_146]assistant\n  A red disc.\n[UNUSED_TOKEN_145]\n</s>"
      )
        == "A red disc.")
    #expect(i.extractAnswer(from: "no markers here \u{3000}") == "no markers here")
    let p = ChatTemplate.phi3
    #expect(p.extractAnswer(from: " Two squares.<|end|></s>") == "Two squares.")
    #expect(
      p.extractAnswer(from: "<|assistant|>\nfirst<|end|><|assistant|>\nsecond<|end|>") == "second")
    #expect(p.extractAnswer(from: "\n\t ") == "")
  }
}
