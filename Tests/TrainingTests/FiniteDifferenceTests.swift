import Foundation
import Tensor
import Testing
import TroL
import TrolleyBasics

@testable import Training

/// Central finite differences in f64 on the tiny fixtures agree with the analytic gradients of
/// the same f64 run, over coordinates of every trainable kind (projector weights, biases and
/// Phi-3's LayerNorm, the gate weight and bias, LoRA A and B).
@Suite struct FiniteDifferenceTests {
  @Test(arguments: ["internlm2", "phi3"])
  func analyticMatchesFiniteDifferences(family: String) throws {
    let goldens = try TrainingGoldens(family)
    let model = try TrainingModel<Double>(path: goldens.modelPath, format: .f32)
    try model.addLoRA(rank: goldens.loraRank, alpha: goldens.loraAlpha, initial: goldens.loraInit())
    let runner = TrainingRunner(model: model)
    let kept = goldens.sample.scoredRows.count
    runner.zeroGradients()
    let analytic = try runner.accumulate(goldens.sample, normalizer: kept)
    // The f64 loss is the float32 golden's to float32 noise.
    let golden = goldens.loss("step2", "initial")
    #expect(abs(analytic.lossSum / Double(kept) - golden) <= 1e-5 * golden)

    let parameters = model.parameters(.step2)
    // Groups: every kind gets coordinates (LoRA A, LoRA B, gate weight, gate bias, each projector tensor).
    let loraA = parameters.filter { $0.name.hasSuffix(".A") }
    let loraB = parameters.filter { $0.name.hasSuffix(".B") }
    let others = parameters.filter { !$0.name.hasPrefix("lora/") }
    var random = SplitMix64(seed: 7511)
    var coordinates: [(Parameter<Double>, Int)] = []
    for _ in 0..<6 {
      let a = loraA[Int(random.next() % UInt64(loraA.count))]
      coordinates.append((a, Int(random.next() % UInt64(a.count))))
      let b = loraB[Int(random.next() % UInt64(loraB.count))]
      coordinates.append((b, Int(random.next() % UInt64(b.count))))
    }
    for p in others {
      for _ in 0..<(p.count == 1 ? 1 : 3) {
        coordinates.append((p, Int(random.next() % UInt64(p.count))))
      }
    }
    #expect(coordinates.count >= 24)
    let h = 1e-5
    var worst = 0.0
    for (p, i) in coordinates {
      let original = p.value.p[i]
      p.value.p[i] = original + h
      let plus = try runner.loss(goldens.sample).lossSum / Double(kept)
      p.value.p[i] = original - h
      let minus = try runner.loss(goldens.sample).lossSum / Double(kept)
      p.value.p[i] = original
      let numeric = (plus - minus) / (2 * h)
      let exact = p.grad.p[i]
      let error = abs(numeric - exact)
      worst = max(worst, error / max(abs(exact), 1e-3))
      #expect(
        error <= 1e-8 + 1e-6 * abs(exact),
        "\(family) \(p.name)[\(i)]: numeric \(numeric), analytic \(exact)")
    }
    // The analytic f64 gradients are the float32 goldens' within those goldens' own float32 noise
    // (the fixture README measures torch's float64 vs float32 autograd at up to 7.7e-6).
    for p in parameters {
      let golden = try goldens.golden("grad/step2/\(p.name)")
      let difference = maxDifference(p.grad.floats, golden)
      #expect(
        difference <= max(1e-4 * maxMagnitude(golden), 1e-5),
        "\(p.name) f64 vs golden \(difference)")
    }
  }
}
