import Foundation
import Synchronization
import TestFixtures
import Testing
import TroL

@testable import trolley

/// What `trolley ask` shows on a terminal: the stages on standard error, then the answer on
/// standard output piece by piece as tokens are chosen, ending exactly as the final answer.
@Suite struct AskProgressTests {
  @Test func stagesComeFirstThenTheAnswerStreamsTokenByToken() throws {
    let family = TestFixtures.trolTiny + "/internlm2"
    let engine = try TroLEngine.load(modelDirectory: family + "/model")
    let writes = Mutex<[(text: String, descriptor: Int32)]>([])
    let display = AskProgress(
      engine: engine, showStages: true, streamTokens: true,
      write: { text, descriptor in writes.withLock { $0.append((text, descriptor)) } })
    let question = try String(contentsOfFile: family + "/question.txt", encoding: .utf8)
    let result = try engine.answer(
      AnswerRequest(
        image: .file(path: family + "/image.png"), question: question,
        options: GenerationOptions(maxNewTokens: 16, stopTokenIDs: [engine.model.eosTokenID]),
        progress: display.progress()))
    let streamedBeforeTheEnd = writes.withLock { $0.filter { $0.descriptor == 1 }.count }
    #expect(display.finish(answer: result.answer))
    let all = writes.withLock { $0 }

    // The stages, in order, on standard error, before any answer text.
    let firstAnswer = try #require(all.firstIndex { $0.descriptor == 1 })
    let status = all[..<firstAnswer].filter { $0.descriptor == 2 }.map(\.text).joined()
    let stages = ["preprocessing the image", "running the vision encoder", "reading the prompt"]
    var position = status.startIndex
    for stage in stages {
      let found = try #require(
        status.range(of: stage, range: position..<status.endIndex), "\(stage)")
      position = found.upperBound
    }
    // The answer arrived in several writes while generating (not once at the end) and adds up
    // to exactly the final answer.
    #expect(streamedBeforeTheEnd >= 2, "\(all)")
    let stdout = all.filter { $0.descriptor == 1 }.map(\.text).joined()
    #expect(stdout == result.answer + "\n")
  }

  /// Piped or with --json nothing is streamed: the command prints the result as before.
  @Test func withoutATerminalNothingIsStreamed() throws {
    let family = TestFixtures.trolTiny + "/phi3"
    let engine = try TroLEngine.load(modelDirectory: family + "/model")
    let writes = Mutex<[String]>([])
    let display = AskProgress(
      engine: engine, showStages: false, streamTokens: false,
      write: { text, _ in writes.withLock { $0.append(text) } })
    let result = try engine.answer(
      AnswerRequest(
        image: nil, question: "Hello", options: GenerationOptions(maxNewTokens: 4),
        progress: display.progress()))
    #expect(!display.finish(answer: result.answer))
    #expect(writes.withLock { $0 }.isEmpty)
  }
}
