import Foundation
import Tensor
public import Training
public import TroL
public import TrolleyJobContracts

/// The arithmetic of a DiLoCo round (training.md, "Rounds as queue jobs"), on artifact bytes in
/// and out, with no queue and no SQL: the kinds fetch and store, this computes. Everything a shard
/// draws is a function of (seed, round, shard, step), so a retry recomputes the same bytes.
public enum DiLoCoRound {
  /// A loaded model with the run's trainable set (LoRA initialised from the run's seed).
  public static func model(_ settings: TrainingRunSettings) throws -> TrainingModel<Float> {
    let trainable = try trainableSet(settings)
    let model = try TrainingModel<Float>(path: settings.model, format: .f32)
    model.traversal = settings.traversal ?? true
    if trainable.usesLoRA {
      try model.addLoRA(rank: settings.loraRank, alpha: settings.loraAlpha, seed: settings.seed)
    }
    return model
  }

  /// The run's trainable set.
  static func trainableSet(_ settings: TrainingRunSettings) throws -> TrainableSet {
    guard let trainable = TrainableSet(rawValue: settings.trainable) else {
      throw TrainingError(
        "unknown trainable set \(settings.trainable); use one of "
          + TrainableSet.allCases.map(\.rawValue).joined(separator: ", "))
    }
    return trainable
  }

  /// The run's model with a stored round checkpoint's tensors in place (what `train export` writes
  /// and `train.eval` scores).
  public static func model(_ settings: TrainingRunSettings, checkpoint: [UInt8]) throws
    -> TrainingModel<Float>
  {
    let tensors = try readTensors(checkpoint).tensors
    let model = try model(settings)
    for p in model.allParameters {
      guard let values = tensors[p.name] else { continue }
      for i in 0..<min(values.count, p.count) { p.value.p[i] = values[i] }
    }
    return model
  }

  /// The trainer settings every shard of the run uses: the cosine runs over all R·H inner steps.
  public static func trainerSettings(_ settings: TrainingRunSettings) throws
    -> Trainer<Float>.Settings
  {
    let trainable = try trainableSet(settings)
    let total = settings.rounds * settings.innerSteps
    return Trainer<Float>.Settings(
      trainable: trainable, steps: total, batchSize: settings.batchSize,
      schedule: CosineSchedule(
        peak: settings.lr, floor: settings.minLR, warmupSteps: settings.warmupSteps ?? 0,
        totalSteps: total),
      adam: .init(weightDecay: settings.weightDecay), maxGradNorm: settings.maxGradNorm,
      seed: settings.seed)
  }

  /// The trainable tensors as a safetensors file (sorted metadata, tensors in parameter order).
  public static func tensorsFile(
    _ tensors: [(name: String, shape: [Int], values: [Float])], metadata: [String: String]
  ) throws -> [UInt8] {
    try withTemporaryFile { path in
      let writer = try SafeTensorsWriter(
        path: path, tensors: tensors.map { .init(name: $0.name, dtype: .f32, shape: $0.shape) },
        metadata: metadata)
      for t in tensors { try writer.append(floats: t.values) }
      try writer.finish()
      return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }
  }

  /// The tensors of a safetensors file's bytes, by name.
  public static func readTensors(_ bytes: [UInt8]) throws -> (
    tensors: [String: [Float]], metadata: [String: String]
  ) {
    try withTemporaryFile { path in
      try Data(bytes).write(to: URL(fileURLWithPath: path))
      let file = try SafeTensorsFile(path: path)
      var tensors: [String: [Float]] = [:]
      for name in file.names { tensors[name] = try file.floats(name) }
      return (tensors, file.metadata)
    }
  }

  /// The base θ_0: the model's trainable tensors as the run starts (`RUN/base`).
  public static func baseCheckpoint(
    _ settings: TrainingRunSettings, model loaded: TrainingModel<Float>? = nil
  ) throws -> [UInt8] {
    let model = try loaded ?? model(settings)
    let parameters = model.parameters(try trainerSettings(settings).trainable)
    return try tensorsFile(
      parameters.map { ($0.name, $0.shape, $0.value.floats) },
      metadata: ["format": "trolley-round", "run": settings.run, "round": "base"])
  }

  public struct ShardOutput: Sendable {
    public var delta: [UInt8]
    public var state: [UInt8]
    public var losses: [Double]
    /// Seconds spent loading the model and resuming the trainer before the first step.
    public var loadSeconds: Double
  }

  /// Shard s of round r: loads θ_r (`start`) and its AdamW state from round r−1 (`previousState`,
  /// nil in round 0) into `loaded` (a model of the run, whatever its trainable tensors hold) or a
  /// freshly loaded model, runs H steps on examples g = ((r·K + s)·H + h)·B + b of the seeded
  /// permutation, and returns θ_r − θ_local, the new state and the H losses.
  public static func shard(
    settings: TrainingRunSettings, round: Int, shard: Int, samples: [TrainingSample],
    start: [UInt8], previousState: [UInt8]?, model loaded: TrainingModel<Float>? = nil,
    shouldStop: () throws -> Void = {}
  ) throws -> ShardOutput {
    let clock = ContinuousClock()
    let loadStart = clock.now
    let model = try loaded ?? model(settings)
    let trainer = try Trainer(
      model: model, samples: samples, settings: try trainerSettings(settings))
    let parameters = trainer.optimizer.parameters
    let startTensors = try readTensors(start).tensors
    let state = try previousState.map { try readTensors($0) }
    // The position this shard starts at, written as a trainer checkpoint and resumed: the
    // trainer then walks g, g+1, … through the same per-epoch permutations as a local run.
    let H = settings.innerSteps
    let first = ((round * settings.shards + shard) * H) * settings.batchSize
    var resume: [(name: String, shape: [Int], values: [Float])] = []
    for p in parameters {
      guard let values = startTensors[p.name], values.count == p.count else {
        throw TrainingError("the round \(round) weights lack \(p.name) or its shape differs")
      }
      let zeros = [Float](repeating: 0, count: p.count)
      resume.append(("param/" + p.name, p.shape, values))
      resume.append(("adam.m/" + p.name, p.shape, state?.tensors["adam.m/" + p.name] ?? zeros))
      resume.append(("adam.v/" + p.name, p.shape, state?.tensors["adam.v/" + p.name] ?? zeros))
    }
    let resumeBytes = try tensorsFile(
      resume,
      metadata: [
        "format": "trolley-training", "step": String(round * H),
        "adam_step": state?.metadata["adam_step"] ?? "0",
        "epoch": String(first / samples.count), "cursor": String(first % samples.count),
        "trainable": settings.trainable,
      ])
    try withTemporaryFile { path in
      try Data(resumeBytes).write(to: URL(fileURLWithPath: path))
      try TrainingCheckpoint.resume(trainer, from: path)
    }
    let loaded = clock.now - loadStart
    var losses: [Double] = []
    for _ in 0..<H {
      try shouldStop()
      losses.append(try trainer.trainStep().loss)
    }
    var delta: [(name: String, shape: [Int], values: [Float])] = []
    for p in parameters {
      let begin = startTensors[p.name] ?? []
      let now = p.value.floats
      delta.append((p.name, p.shape, (0..<p.count).map { begin[$0] - now[$0] }))
    }
    let deltaBytes = try tensorsFile(
      delta,
      metadata: [
        "format": "trolley-delta", "run": settings.run, "round": String(round),
        "shard": String(shard),
      ])
    let stateBytes = try withTemporaryFile { path in
      try TrainingCheckpoint.save(trainer, to: path)
      return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }
    let seconds = loaded.components
    return ShardOutput(
      delta: deltaBytes, state: stateBytes, losses: losses,
      loadSeconds: Double(seconds.seconds) + Double(seconds.attoseconds) * 1e-18)
  }

  public struct MergeOutput: Sendable {
    public var checkpoint: [UInt8]
    public var momentum: [UInt8]?
    public var deltaNorm: Double
  }

  /// The outer step of round r: Δ = mean of the K deltas (f64, shard order); torch Nesterov
  /// b ← μb + Δ; θ ← θ − η(Δ + μb) (η 1, μ 0: θ ← θ − Δ, plain averaging).
  public static func merge(
    settings: TrainingRunSettings, round: Int, start: [UInt8], deltas: [[UInt8]],
    previousMomentum: [UInt8]?
  ) throws -> MergeOutput {
    let (theta, _) = try readTensors(start)
    let base = try SafeTensorsFileNames.names(start)
    let shardDeltas = try deltas.map { try readTensors($0).tensors }
    let momentum = try previousMomentum.map { try readTensors($0).tensors }
    let eta = settings.outerLR
    let mu = settings.outerMomentum
    let k = Double(deltas.count)
    var checkpoint: [(name: String, shape: [Int], values: [Float])] = []
    var buffers: [(name: String, shape: [Int], values: [Float])] = []
    var squares = 0.0
    for (name, shape) in base {
      guard let values = theta[name] else { continue }
      var mean = [Double](repeating: 0, count: values.count)
      for (s, d) in shardDeltas.enumerated() {
        guard let part = d[name], part.count == values.count else {
          throw TrainingError("shard \(s)'s delta of round \(round) lacks \(name)")
        }
        for i in 0..<values.count { mean[i] += Double(part[i]) }
      }
      var next = [Float](repeating: 0, count: values.count)
      var buffer = [Float](repeating: 0, count: values.count)
      let previous = momentum?[name]
      for i in 0..<values.count {
        let delta = mean[i] / k
        squares += delta * delta
        let b = mu * Double(previous?[i] ?? 0) + delta
        buffer[i] = Float(b)
        next[i] = Float(Double(values[i]) - eta * (delta + mu * b))
      }
      checkpoint.append((name, shape, next))
      buffers.append((name, shape, buffer))
    }
    let meta = ["format": "trolley-round", "run": settings.run, "round": String(round)]
    let norm = squares.squareRoot()
    var checkpointMeta = meta
    checkpointMeta["delta_norm"] = String(norm)
    return MergeOutput(
      checkpoint: try tensorsFile(checkpoint, metadata: checkpointMeta),
      momentum: mu == 0 ? nil : try tensorsFile(buffers, metadata: meta),
      deltaNorm: norm)
  }

  static func withTemporaryFile<R>(_ body: (String) throws -> R) throws -> R {
    let path =
      NSTemporaryDirectory() + "/trolley-train-\(ProcessInfo.processInfo.processIdentifier)-"
      + UUID().uuidString + ".safetensors"
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
  }
}

/// The tensor names and shapes of safetensors bytes, in file order.
enum SafeTensorsFileNames {
  static func names(_ bytes: [UInt8]) throws -> [(String, [Int])] {
    try DiLoCoRound.withTemporaryFile { path in
      try Data(bytes).write(to: URL(fileURLWithPath: path))
      let file = try SafeTensorsFile(path: path)
      return try file.names.map { ($0, try file.info($0).shape) }
    }
  }
}
