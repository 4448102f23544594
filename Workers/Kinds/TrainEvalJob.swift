import Foundation
import Tensor
import Training
import TroL
import TrolleyBasics
public import TrolleyJobContracts

/// `train.eval`: round r's checkpoint on the held-out split (docs/training-runs.md, "Evaluation"):
/// the mean loss per answer token, computed as training computes it, and exact-match accuracy of
/// greedy answers through the inference engine on the examples whose answers are short. It depends
/// on merge r; nothing depends on it but the run's completion.
public struct TrainEvalJob: ContractJobKind {
  public typealias Contract = TrainEval
  /// Answers of at most this many tokens are answered greedily and compared.
  public static let shortAnswerTokens = 16
  let settings: TrainingJobSettings

  public init(settings: TrainingJobSettings) { self.settings = settings }

  /// What exact match compares: lowercased, surrounding white space and one final '.' removed.
  public static func normalized(_ answer: String) -> String {
    var text = answer.lowercased().trimmingCharacters(in: .whitespacesAndNewlines)
    if text.hasSuffix(".") { text.removeLast() }
    return text.trimmingCharacters(in: .whitespacesAndNewlines)
  }

  public func run(_ payload: Contract.Payload, context: JobContext) async throws -> Contract.Result
  {
    let run = payload.settings
    guard (0..<run.rounds).contains(payload.round), run.evaluates else {
      throw JobFailure(
        .invalidPayload,
        "train.eval: round \(payload.round) is out of range, or the run has no held-out split")
    }
    do {
      let clock = ContinuousClock()
      let begin = clock.now
      let artifacts = settings.artifacts(run)
      let checkpoint = try await artifacts.get(
        TrainingArtifactName.checkpoint(run.run, round: payload.round))
      let held = try settings.evalSet(run)
      let model = try DiLoCoRound.model(run, checkpoint: checkpoint)
      let runner = TrainingRunner(model: model)
      var sum = 0.0
      var tokens = 0
      for sample in held.samples {
        try context.checkStop()
        sum += try runner.loss(sample).lossSum
        tokens += sample.scoredRows.count
      }
      // Each question the run trains on is answered on its own (the first, or each of them).
      let short = held.examples.flatMap { example in
        example.turns(run.trainingTurns).map {
          LLaVAData.Example(
            id: example.id, image: example.image, question: $0.question, answer: $0.answer,
            turns: [$0])
        }
      }.filter { model.tokenizer.encode($0.answer).count <= Self.shortAnswerTokens }
      var correct = 0
      if !short.isEmpty {
        correct = try Self.exactMatches(short, model: model, context: context)
      }
      try await settings.prune(run, merged: payload.round, exceptJob: context.jobID)
      return Contract.Result(
        loss: sum / Double(max(tokens, 1)), examples: held.samples.count, answered: short.count,
        exactMatch: short.isEmpty ? nil : Double(correct) / Double(short.count),
        seconds: (clock.now - begin).seconds)
    } catch {
      throw trainingFailure(error)
    }
  }

  /// How many of `examples` the model answers exactly (greedy, through the engine that `trolley
  /// ask` uses, loaded from the checkpoint written in the official layout).
  static func exactMatches(
    _ examples: [LLaVAData.Example], model: TrainingModel<Float>, context: JobContext
  ) throws -> Int {
    let folder =
      NSTemporaryDirectory() + "/trolley-eval-\(ProcessInfo.processInfo.processIdentifier)-"
      + UUID().uuidString
    defer { try? FileManager.default.removeItem(atPath: folder) }
    try ModelExport.write(model, to: folder, adapter: false)
    let engine = try TroLEngine.load(modelDirectory: folder, weights: .f32)
    var correct = 0
    for example in examples {
      try context.checkStop()
      let result = try engine.answer(
        AnswerRequest(
          image: example.image.map { .file(path: $0) }, question: example.question,
          options: GenerationOptions(
            strategy: .greedy, maxNewTokens: shortAnswerTokens + 4,
            traversal: model.traversal ? .trol : .off)))
      if normalized(result.answer) == normalized(example.answer) { correct += 1 }
    }
    return correct
  }
}
