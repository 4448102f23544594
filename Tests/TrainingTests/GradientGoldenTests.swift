import Foundation
import Tensor
import Testing
import TroL

@testable import Training

/// Loss, gradients and one AdamW step against the official goldens (torch autograd on the
/// official forward), for both families and both trainable sets.
@Suite struct GradientGoldenTests {
  /// Runs one step of `set` on the fixture and compares everything the goldens hold.
  static func check(_ family: String, _ set: TrainableSet) throws {
    let goldens = try TrainingGoldens(family)
    let step = set.rawValue
    let model = try TrainingModel<Float>(path: goldens.modelPath, format: .f32)
    if set.usesLoRA {
      try model.addLoRA(
        rank: goldens.loraRank, alpha: goldens.loraAlpha, initial: goldens.loraInit())
    }
    let runner = TrainingRunner(model: model)
    let parameters = model.parameters(set)
    runner.zeroGradients()
    let kept = goldens.sample.scoredRows.count
    let result = try runner.accumulate(goldens.sample, normalizer: kept, wantVisionGradient: true)
    let loss = result.lossSum / Double(kept)
    let expected = goldens.loss(step, "initial")
    #expect(
      abs(loss - expected) <= 1e-5 * abs(expected), "\(family) \(step) loss \(loss) vs \(expected)")

    // Every gradient within 1e-4 of its tensor's largest golden magnitude.
    for p in parameters {
      let golden = try goldens.golden("grad/\(step)/\(p.name)")
      let difference = maxDifference(p.grad.floats, golden)
      #expect(
        difference <= 1e-4 * maxMagnitude(golden),
        "\(family) \(step) grad \(p.name): max diff \(difference), max |golden| \(maxMagnitude(golden))"
      )
    }
    let visionGolden = try goldens.golden("grad/\(step)/vision_features")
    let visionDifference = maxDifference(result.visionFeatureGradient ?? [], visionGolden)
    #expect(
      visionDifference <= 1e-4 * maxMagnitude(visionGolden),
      "\(family) \(step) vision grad \(visionDifference)")

    // One AdamW step with the goldens' settings: within 1e-5, except entries whose golden gradient
    // is under 1e-3 of its tensor's largest (their first step is ±lr by the sign of a noisy g).
    let optimizer = AdamW(parameters: parameters, settings: .init(weightDecay: 0.01))
    optimizer.update(lr: 1e-3)
    for p in parameters {
      let after = try goldens.golden("after/\(step)/\(p.name)")
      let grad = try goldens.golden("grad/\(step)/\(p.name)")
      let threshold = 1e-3 * maxMagnitude(grad)
      let values = p.value.floats
      var worst: Float = 0
      for i in 0..<after.count where abs(grad[i]) >= threshold {
        worst = max(worst, abs(values[i] - after[i]))
      }
      #expect(worst <= 1e-5, "\(family) \(step) after \(p.name): max diff \(worst)")
    }
    let lossAfter = try runner.loss(goldens.sample).lossSum / Double(kept)
    let expectedAfter = goldens.loss(step, "after_adamw")
    #expect(
      abs(lossAfter - expectedAfter) <= 1e-5 * abs(expectedAfter),
      "\(family) \(step) loss after \(lossAfter) vs \(expectedAfter)")
  }

  @Test func internLM2Step1() throws { try Self.check("internlm2", .step1) }
  @Test func internLM2Step2() throws { try Self.check("internlm2", .step2) }
  @Test func phi3Step1() throws { try Self.check("phi3", .step1) }
  @Test func phi3Step2() throws { try Self.check("phi3", .step2) }
}
