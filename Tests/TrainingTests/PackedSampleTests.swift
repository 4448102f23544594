import Foundation
import Tensor
import Testing
import TroL

@testable import Training

/// `train start --turns each`: several questions about one image packed into one sample give, in
/// f64, the same loss and the same gradients of every tensor (vision tower included) as one
/// sample per question in the same batch, for both families, traversal on and off; without the
/// packing's mask the same tokens give a different loss (the mask is what makes them equal).
@Suite struct PackedSampleTests {
  static let turns: [(question: String, answer: String)] = [
    ("What is it?", "A cat."),
    ("Is the cat sleeping on the red sofa by the window?", "No."),
    ("What colour is it?", "Grey and white, mostly grey."),
  ]

  @Test(arguments: ["internlm2", "phi3"], [true, false])
  func packedEqualsOneSamplePerQuestion(family: String, traversal: Bool) throws {
    let goldens = try TrainingGoldens(family)
    let (model, builder) = try goldens.allSetModel(traversal: traversal)
    let image = goldens.directory + "/image.png"
    let width = model.visionFeatureWidth
    let singles = try Self.turns.map {
      try builder.sample(
        imagePath: image, question: $0.question, answer: $0.answer, featureWidth: width)
    }
    let packed = try builder.packedSample(imagePath: image, turns: Self.turns, featureWidth: width)
    let packing = try #require(packed.packing)
    #expect(packing.segmentStarts.count == 3)
    // The image rows and the system prompt are in the shared prefix, once.
    let imageRows = singles[0].ids.count { $0 == model.imageTokenID }
    #expect(imageRows > 0 && packing.prefix > imageRows)
    #expect(packed.ids.count { $0 == model.imageTokenID } == imageRows)
    #expect(packed.ids.count == singles.map(\.ids.count).reduce(0, +) - 2 * packing.prefix)
    let kept = singles.map(\.scoredRows.count).reduce(0, +)
    #expect(packed.scoredRows.count == kept)

    let runner = TrainingRunner(model: model)
    let parameters = model.parameters(.all)
    runner.zeroGradients()
    var separateLoss = 0.0
    for sample in singles {
      separateLoss += try runner.accumulate(sample, normalizer: kept).lossSum
    }
    let separate = parameters.map { p in (0..<p.count).map { p.grad.p[$0] } }
    runner.zeroGradients()
    let packedLoss = try runner.accumulate(packed, normalizer: kept).lossSum
    #expect(
      abs(packedLoss - separateLoss) <= 1e-10 * abs(separateLoss),
      "\(packedLoss) vs \(separateLoss)")
    var worst = 0.0
    for (p, expected) in zip(parameters, separate) {
      let scale = expected.map(abs).max() ?? 0
      for i in 0..<p.count {
        let difference = abs(p.grad.p[i] - expected[i])
        worst = max(worst, difference)
        if difference > 1e-9 * max(scale, 1e-12) + 1e-15 {
          Issue.record("\(p.name)[\(i)]: packed \(p.grad.p[i]), separate \(expected[i])")
          break
        }
      }
    }

    // The same tokens as one causal sequence (later questions see earlier ones and sit at later
    // positions): a different loss.
    var unmasked = packed
    unmasked.packing = nil
    let causal = try runner.loss(unmasked).lossSum
    #expect(abs(causal - separateLoss) > 1e-6 * abs(separateLoss))
  }

  @Test func packingRejectsQuestionsAboutDifferentImages() throws {
    let a = TrainingSample(ids: [1, 2, 3, 4], labels: [-100, -100, -100, 4], visionFeatures: [1])
    let b = TrainingSample(ids: [1, 2, 5, 6], labels: [-100, -100, -100, 6], visionFeatures: [2])
    #expect(throws: TrainingError.self) { try TrainingSample.packed([a, b]) }
  }

  /// Identical prompts still give each question its own last prompt row, and positions restart
  /// after the shared prefix.
  @Test func theRowThatPredictsAnAnswerStaysInItsSegment() throws {
    let a = TrainingSample(
      ids: [1, 2, 3, 4, 5], labels: [-100, -100, -100, 4, 5], visionFeatures: [])
    let b = TrainingSample(ids: [1, 2, 3, 7], labels: [-100, -100, -100, 7], visionFeatures: [])
    let packed = try TrainingSample.packed([a, b])
    #expect(packed.packing == SamplePacking(prefix: 2, segmentStarts: [2, 5]))
    #expect(packed.ids == [1, 2, 3, 4, 5, 3, 7])
    #expect(packed.packing?.positions(rows: 7) == [0, 1, 2, 3, 4, 2, 3])
    #expect(packed.scoredRows == [2, 3, 5])
  }
}
