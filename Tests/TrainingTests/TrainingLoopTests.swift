import Foundation
import Tensor
import Testing
import TroL

@testable import Training

/// A whole run on one image/question/answer: the loss falls below 0.05, the exported folder
/// answers exactly that answer through the engine and passes the inspection, merged and adapter
/// exports answer alike, and a resumed checkpoint continues bit for bit.
@Suite struct TrainingLoopTests {
  static func fixture(_ family: String) throws -> (
    goldens: TrainingGoldens, question: String, answer: String, image: String
  ) {
    let goldens = try TrainingGoldens(family)
    let sequence = goldens.json["sequence"] as! [String: Any]
    let question = try String(contentsOfFile: goldens.directory + "/question.txt", encoding: .utf8)
    return (goldens, question, sequence["answer_text"] as! String, goldens.directory + "/image.png")
  }

  static func trainer(_ family: String, steps: Int) throws -> (
    Trainer<Float>, String, String, String
  ) {
    let (goldens, question, answer, image) = try fixture(family)
    let model = try TrainingModel<Float>(path: goldens.modelPath, format: .f32)
    try model.addLoRA(rank: 8, alpha: 16, seed: 3)
    let sample = try SampleBuilder(modelDirectory: goldens.modelPath).sample(
      imagePath: image, question: question, answer: answer, featureWidth: model.visionFeatureWidth)
    let settings = Trainer<Float>.Settings(
      trainable: .step2, steps: steps, batchSize: 1,
      schedule: CosineSchedule(peak: 5e-3, floor: 1e-5, warmupSteps: 10, totalSteps: steps),
      adam: .init(weightDecay: 0), maxGradNorm: 1, seed: 11)
    return (
      try Trainer(model: model, samples: [sample], settings: settings), question, answer, image
    )
  }

  @Test(arguments: ["internlm2", "phi3"])
  func overfitsAndExportsAnAnsweringModel(family: String) throws {
    let (trainer, question, answer, image) = try Self.trainer(family, steps: 200)
    var first = 0.0
    var last = 0.0
    for s in 0..<200 {
      let report = try trainer.trainStep()
      if s == 0 { first = report.loss }
      last = report.loss
    }
    let final = try trainer.evaluate(trainer.samples)
    #expect(first > 1, "\(family): initial loss \(first)")
    #expect(final < 0.05, "\(family): loss after 200 steps \(final) (last step \(last))")

    let root = NSTemporaryDirectory() + "trolley-train-export-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: root) }
    try ModelExport.write(trainer.model, to: root + "/merged", adapter: false)
    try ModelExport.write(trainer.model, to: root + "/adapter", adapter: true)
    #expect(FileManager.default.fileExists(atPath: root + "/adapter/adapter_model.safetensors"))
    #expect(FileManager.default.fileExists(atPath: root + "/adapter/adapter_config.json"))

    var answers: [String] = []
    for folder in ["merged", "adapter"] {
      let inspection = try ModelInspection(ModelDirectory(path: root + "/" + folder))
      #expect(inspection.findings.isEmpty, "\(folder): \(inspection.findings)")
      let engine = try TroLEngine.load(modelDirectory: root + "/" + folder, weights: .f32)
      let result = try engine.answer(
        AnswerRequest(image: .file(path: image), question: question, options: GenerationOptions()))
      answers.append(result.answer)
      #expect(result.answer == answer, "\(family) \(folder): answered '\(result.answer)'")
    }
    #expect(answers[0] == answers[1])
  }

  @Test func resumedCheckpointContinuesBitForBit() throws {
    let (straight, _, _, _) = try Self.trainer("internlm2", steps: 6)
    for _ in 0..<6 { try straight.trainStep() }
    let (first, _, _, _) = try Self.trainer("internlm2", steps: 6)
    for _ in 0..<3 { try first.trainStep() }
    let path = NSTemporaryDirectory() + "trolley-train-ckpt-\(UUID().uuidString).safetensors"
    defer { try? FileManager.default.removeItem(atPath: path) }
    try TrainingCheckpoint.save(first, to: path)
    let (resumed, _, _, _) = try Self.trainer("internlm2", steps: 6)
    try TrainingCheckpoint.resume(resumed, from: path)
    #expect(resumed.step == 3)
    for _ in 0..<3 { try resumed.trainStep() }
    for (a, b) in zip(straight.optimizer.parameters, resumed.optimizer.parameters) {
      #expect(a.value.floats == b.value.floats, "\(a.name) differs after resuming")
    }
  }
}
