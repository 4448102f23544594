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

/// The `all` set (every tensor, vision tower included) in f64: central finite differences agree
/// with the analytic gradients over a coordinate of every kind of tensor (kinds are names with
/// the layer index dropped), with traversal on and off; with traversal on, the tower's features
/// give the official loss and the step-1 tensors' gradients are the official ones.
@Suite struct AllSetFiniteDifferenceTests {
  @Test(arguments: ["internlm2", "phi3"], [true, false])
  func analyticMatchesFiniteDifferences(family: String, traversal: Bool) throws {
    let goldens = try TrainingGoldens(family)
    let (model, builder) = try goldens.allSetModel(traversal: traversal)
    #expect(builder.engine == nil)
    let image = try builder.preprocessed(imagePath: goldens.directory + "/image.png")
    var sample = goldens.sample
    sample.pixels = image.pixels
    sample.visionFeatures = []
    let runner = TrainingRunner(model: model)
    let kept = sample.scoredRows.count
    runner.zeroGradients()
    let analytic = try runner.accumulate(sample, normalizer: kept, wantVisionGradient: true)
    let parameters = model.parameters(.all)
    if traversal {
      // The tower computed the features from the pixels: the official step-1 loss and gradients.
      let golden = goldens.loss("step1", "initial")
      #expect(abs(analytic.lossSum / Double(kept) - golden) <= 1e-5 * golden)
      for p in model.parameters(.step1) {
        let expected = try goldens.golden("grad/step1/\(p.name)")
        #expect(
          maxDifference(p.grad.floats, expected) <= 1e-4 * maxMagnitude(expected), "\(p.name)")
      }
      let features = try goldens.golden("grad/step1/vision_features")
      #expect(
        maxDifference(analytic.visionFeatureGradient ?? [], features)
          <= 1e-4 * maxMagnitude(features))
    } else {
      #expect(!parameters.contains { $0.name.contains("trol_gating") })
    }
    // One tensor of every kind, one coordinate in it (rows of the sample's tokens for the
    // embedding table, whose other rows have no gradient).
    var random = SplitMix64(seed: traversal ? 16 : 61)
    var kinds: [String: [Parameter<Double>]] = [:]
    for p in parameters {
      kinds[
        p.name.replacingOccurrences(of: #"\.\d+\."#, with: ".#.", options: .regularExpression),
        default: []
      ].append(p)
    }
    #expect(kinds.count >= (family == "phi3" ? 28 : 30))
    let D = model.hidden
    var coordinates: [(Parameter<Double>, Int)] = []
    // Without traversal only the decoder's passes change: its kinds suffice (and keep it cheap).
    let towerPrefixes = ["vit.", "vision_model.", "vision_proj."]
    for kind in kinds.keys.sorted()
    where traversal || !towerPrefixes.contains(where: { kind.hasPrefix($0) }) {
      let group = kinds[kind]!
      let p = group[Int(random.next() % UInt64(group.count))]
      if p.name.hasSuffix("embed_tokens.weight") || p.name.hasSuffix("tok_embeddings.weight") {
        let text = sample.ids.filter { $0 != model.imageTokenID }
        let row = text[Int(random.next() % UInt64(text.count))]
        coordinates.append((p, row * D + Int(random.next() % UInt64(D))))
      } else {
        coordinates.append((p, Int(random.next() % UInt64(p.count))))
      }
    }
    let h = 1e-5
    for (p, i) in coordinates {
      let original = p.value.p[i]
      p.value.p[i] = original + h
      let plus = try runner.loss(sample).lossSum / Double(kept)
      p.value.p[i] = original - h
      let minus = try runner.loss(sample).lossSum / Double(kept)
      p.value.p[i] = original
      let numeric = (plus - minus) / (2 * h)
      let exact = p.grad.p[i]
      #expect(
        abs(numeric - exact) <= 1e-8 + 1e-6 * abs(exact),
        "\(family) traversal \(traversal) \(p.name)[\(i)]: numeric \(numeric), analytic \(exact)")
    }
    // Most sampled coordinates carry a gradient, so the comparison is not of zeros.
    #expect(coordinates.filter { abs($0.0.grad.p[$0.1]) > 1e-7 }.count >= coordinates.count * 3 / 4)
  }
}
