import ArgumentParser

/// `trolley bench`: benchmarks of the queue and of the engine.
struct Bench: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench",
    abstract:
      "Measure the engine's kernels and model, the queue's throughput, or a worker's images per hour.",
    subcommands: [
      BenchEngine.self, BenchQueue.self, BenchWorker.self, BenchIngest.self, BenchDedupe.self,
      BenchTrain.self, BenchTrainSteps.self, BenchQuality.self,
    ]
  )
}
