internal import Foundation
internal import TrolleyBasics

/// A training run on this machine: seeded data order, gradient accumulation over batches of
/// samples, global-norm clipping, torch AdamW on a warmup + cosine schedule.
public final class Trainer<T: Real>: @unchecked Sendable {
  public struct Settings: Sendable, Codable, Hashable {
    public var trainable: TrainableSet
    /// Optimizer steps.
    public var steps: Int
    /// Samples per optimizer step (split over `accumulation` forward/backward groups; the loss is
    /// the mean over all kept tokens of the step's samples, as the official loss at batch 1 is
    /// per sample).
    public var batchSize: Int
    public var schedule: CosineSchedule
    public var adam: AdamW<T>.Settings
    /// Clip the global gradient norm to this (0: no clipping).
    public var maxGradNorm: Double
    public var seed: UInt64
    /// TroL's traversal (false: each layer once and no gate, the paper's ablation).
    public var traversal: Bool

    public init(
      trainable: TrainableSet, steps: Int, batchSize: Int = 1, schedule: CosineSchedule,
      adam: AdamW<T>.Settings = .init(weightDecay: 0), maxGradNorm: Double = 1, seed: UInt64 = 0,
      traversal: Bool = true
    ) {
      self.traversal = traversal
      self.trainable = trainable
      self.steps = steps
      self.batchSize = batchSize
      self.schedule = schedule
      self.adam = adam
      self.maxGradNorm = maxGradNorm
      self.seed = seed
    }
  }

  public let model: TrainingModel<T>
  public let runner: TrainingRunner<T>
  public let settings: Settings
  public let optimizer: AdamW<T>
  public let samples: [TrainingSample]
  /// The seeded permutation of the current epoch and the position in it.
  private var order: [Int] = []
  private var cursor = 0
  private var epoch = 0
  /// Optimizer steps done.
  public private(set) var step = 0

  @_specialize(where T == Float)
  public init(model: TrainingModel<T>, samples: [TrainingSample], settings: Settings) throws {
    guard !samples.isEmpty else { throw TrainingError("no training samples") }
    guard settings.batchSize >= 1, settings.steps >= 0 else {
      throw TrainingError("batch size must be at least 1 and steps at least 0")
    }
    if settings.trainable.trainsEverything { try model.unfreezeAll() }
    guard !settings.trainable.usesLoRA || !model.adapters.isEmpty else {
      throw TrainingError("step2 trains LoRA: add the adapters first (TrainingModel.prepare)")
    }
    model.traversal = settings.traversal
    self.model = model
    self.samples = samples
    self.settings = settings
    runner = TrainingRunner(model: model)
    optimizer = AdamW(parameters: model.parameters(settings.trainable), settings: settings.adam)
    reshuffle()
  }

  /// Epoch e's order: a SplitMix64 Fisher–Yates permutation seeded by (seed, e).
  private func reshuffle() {
    var random = SplitMix64(seed: settings.seed &+ UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15)
    order = Array(0..<samples.count)
    if order.count > 1 {
      for i in stride(from: order.count - 1, to: 0, by: -1) {
        let j = Int(random.next() % UInt64(i + 1))
        order.swapAt(i, j)
      }
    }
    cursor = 0
  }

  private func nextSample() -> TrainingSample {
    if cursor == order.count {
      epoch += 1
      reshuffle()
    }
    defer { cursor += 1 }
    return samples[order[cursor]]
  }

  public struct StepReport: Sendable {
    public var step: Int
    public var loss: Double
    public var gradNorm: Double
    public var learningRate: Double
    public var tokens: Int
  }

  /// One optimizer step over the next `batchSize` samples.
  @_specialize(where T == Float)
  @discardableResult
  public func trainStep() throws -> StepReport {
    let batch = (0..<settings.batchSize).map { _ in nextSample() }
    let kept = batch.reduce(0) { $0 + $1.scoredRows.count }
    guard kept > 0 else {
      throw TrainingError("a batch without answer tokens (labels are all −100)")
    }
    runner.zeroGradients()
    var lossSum = 0.0
    for sample in batch { lossSum += try runner.accumulate(sample, normalizer: kept).lossSum }
    let parameters = optimizer.parameters
    let norm =
      settings.maxGradNorm > 0
      ? clipGradients(parameters, maxNorm: settings.maxGradNorm)
      : clipGradients(parameters, maxNorm: .infinity)
    let lr = settings.schedule.rate(at: step)
    optimizer.update(lr: lr)
    step += 1
    return StepReport(
      step: step, loss: lossSum / Double(kept), gradNorm: norm, learningRate: lr, tokens: kept)
  }

  /// Mean loss over `samples` at the current parameters.
  @_specialize(where T == Float)
  public func evaluate(_ samples: [TrainingSample]) throws -> Double {
    var sum = 0.0
    var tokens = 0
    for s in samples {
      sum += try runner.loss(s).lossSum
      tokens += s.scoredRows.count
    }
    return sum / Double(max(tokens, 1))
  }

  /// The data-order state, for checkpoints.
  var dataState: (epoch: Int, cursor: Int) { (epoch, cursor) }

  func restore(step: Int, epoch: Int, cursor: Int) {
    self.step = step
    self.epoch = epoch
    reshuffle()
    self.cursor = cursor
  }
}
