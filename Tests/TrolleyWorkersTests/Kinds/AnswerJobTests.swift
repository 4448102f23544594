import Foundation
import JobQueue
import Testing
import TroL
import TrolleyBasics
import TrolleyJobContracts
import TrolleyWorkers

@Suite struct AnswerJobTests {
  static let engine: TroLEngine? = try? TroLEngine.load(modelDirectory: Fixtures.model("internlm2"))

  private func settings(batchSize: Int) throws -> EngineJobSettings {
    let engine = try #require(Self.engine, "the internlm2 fixture model must load")
    return EngineJobSettings(
      batch: EngineBatch(
        engine: engine, fetcher: ImageFetcher(policy: .unrestricted), modelName: "trol-tiny"),
      batchSize: batchSize, maxNewTokens: 8)
  }

  private func context(_ id: Int64) -> JobContext {
    JobContext(jobID: id, queue: "default", attempt: 1, batchID: nil)
  }

  private func payload(_ image: String, _ question: String) throws -> AnswerJob.Payload {
    let json = try JSONSerialization.data(withJSONObject: ["image": image, "question": question])
    return try JSONDecoder().decode(AnswerJob.Payload.self, from: json)
  }

  @Test func batchedAnswersEqualSingleAnswersAndTheEngine() async throws {
    let image = Fixtures.image("internlm2")
    let questions = [
      "What is in the image?", "Describe the shapes.", "Which colours?", "Count the shapes.",
    ]
    let batched = AnswerJob(settings: try settings(batchSize: 4))
    let jobs = try questions.enumerated().map {
      (try payload(image, $0.element), context(Int64($0.offset)))
    }
    let together = await batched.run(batch: jobs)
    let single = AnswerJob(settings: try settings(batchSize: 1))
    let engine = try #require(Self.engine)
    for (index, question) in questions.enumerated() {
      let alone = try await single.run(try payload(image, question), context: context(100))
      let batchedResult = try together[index].get()
      #expect(batchedResult.answer == alone.answer)
      #expect(batchedResult.tokens == alone.tokens)
      let direct = try engine.answer(
        AnswerRequest(
          image: .file(path: image), question: question, options: GenerationOptions(maxNewTokens: 8)
        ))
      #expect(alone.answer == direct.answer, "the job's answer is what `trolley ask` computes")
      #expect(batchedResult.model == "trol-tiny")
    }
  }

  @Test func badImagesFailOnlyTheirOwnJobsPermanently() async throws {
    let directory = NSTemporaryDirectory() + "trolley-kinds-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let good = Fixtures.image("internlm2")
    let goodBytes = try Data(contentsOf: URL(fileURLWithPath: good))
    let truncated = directory + "/truncated.png"
    try goodBytes.prefix(goodBytes.count / 2).write(to: URL(fileURLWithPath: truncated))
    let empty = directory + "/empty.jpg"
    try Data().write(to: URL(fileURLWithPath: empty))
    let corrupt = directory + "/corrupt.jpg"
    try Data([0xFF, 0xD8, 0xFF, 0xE0, 0, 16, 1, 2, 3, 4, 5, 6, 7, 8]).write(
      to: URL(fileURLWithPath: corrupt))
    let text = directory + "/notes.txt"
    try Data("hello".utf8).write(to: URL(fileURLWithPath: text))
    let sources = [good, truncated, empty, corrupt, directory + "/missing.png", text]
    let kind = AnswerJob(settings: try settings(batchSize: 6))
    let results = await kind.run(
      batch: try sources.enumerated().map {
        (try payload($0.element, "What is it?"), context(Int64($0.offset)))
      })
    #expect(try results[0].get().answer.isEmpty == false || (try results[0].get().tokens) > 0)
    for (index, source) in sources.enumerated().dropFirst() {
      switch results[index] {
      case .success: Issue.record("\(source) was answered")
      case .failure(let error):
        let failure = try #require(error as? JobFailure)
        #expect(failure.code == .permanent, "\(source): \(failure.message)")
        #expect(
          failure.message.contains((source as NSString).lastPathComponent),
          "the message names the file: \(failure.message)")
      }
    }
  }

  @Test func emptyQuestionIsAnInvalidPayload() async throws {
    let kind = AnswerJob(settings: try settings(batchSize: 1))
    let results = await kind.run(batch: [
      (try payload(Fixtures.image("internlm2"), "  "), context(1))
    ])
    #expect(throws: JobFailure(.invalidPayload, "")) { try results[0].get() }
  }
}
