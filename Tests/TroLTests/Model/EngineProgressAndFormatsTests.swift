import Foundation
import Synchronization
import Tensor
import TestFixtures
import Testing

@testable import TroL

/// The engine reports each request's stages and tokens as they happen, and answers a picture in
/// WebP, GIF or BMP exactly as the same picture in PNG.
@Suite struct EngineProgressAndFormatsTests {
  @Test func progressReportsStagesThenEveryTokenInOrder() throws {
    let fixture = try GoldenFixture("internlm2")
    let engine = try TroLEngine.load(modelDirectory: fixture.modelDirectory.path, weights: .f16)
    let events = Mutex<[GenerationProgress.Event]>([])
    let progress = GenerationProgress(observer: { event in events.withLock { $0.append(event) } })
    let result = try engine.answer(
      AnswerRequest(
        image: .file(path: fixture.directory.appendingPathComponent("image.png").path),
        question: "What is in the image?", options: GenerationOptions(maxNewTokens: 6),
        progress: progress))
    let seen = events.withLock { $0 }
    let stages = seen.compactMap { event -> GenerationProgress.Stage? in
      if case .stage(let stage) = event { return stage }
      return nil
    }
    #expect(stages == [.preprocessing, .vision, .prefill, .decoding])
    let tokens = seen.compactMap { event -> Int? in
      if case .token(let token) = event { return token }
      return nil
    }
    #expect(tokens == result.tokenIDs)
    #expect(progress.generatedTokens == result.tokenIDs.count)
    // Every token is reported after decoding starts.
    let decoding = try #require(seen.firstIndex(of: .stage(.decoding)))
    #expect(seen[..<decoding].allSatisfy { if case .token = $0 { false } else { true } })
  }

  @Test func beamSearchReportsBeamLengths() throws {
    let fixture = try GoldenFixture("internlm2")
    let engine = try TroLEngine.load(modelDirectory: fixture.modelDirectory.path, weights: .f16)
    let lengths = Mutex<[Int]>([])
    let progress = GenerationProgress(observer: { event in
      if case .beamLength(let n) = event { lengths.withLock { $0.append(n) } }
    })
    _ = try engine.answer(
      AnswerRequest(
        image: nil, question: "Hello",
        options: GenerationOptions(strategy: .beamSearch(beams: 2), maxNewTokens: 4),
        progress: progress))
    let seen = lengths.withLock { $0 }
    #expect(!seen.isEmpty)
    #expect(seen == Array(1...seen.count))
  }

  @Test(arguments: ["picture-lossless.webp", "picture.gif", "picture-24.bmp", "animated.webp"])
  func otherFormatsAreAnsweredLikeThePNG(file: String) throws {
    let fixture = try GoldenFixture("phi3")
    let engine = try TroLEngine.load(modelDirectory: fixture.modelDirectory.path, weights: .f16)
    let options = GenerationOptions(maxNewTokens: 8)
    func answer(_ name: String) throws -> AnswerResult {
      try engine.answer(
        AnswerRequest(
          image: .file(path: TestFixtures.imageFormats + "/" + name),
          question: "What is in the image?", options: options))
    }
    let png = try answer("picture.png")
    let other = try answer(file)
    #expect(other.tokenIDs == png.tokenIDs)
    #expect(other.answer == png.answer)
  }
}
