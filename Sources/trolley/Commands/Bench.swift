import ArgumentParser

/// `trolley bench`: benchmarks of the queue and of the engine.
struct Bench: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench",
    abstract: "Measure the engine's kernels and model, or the queue's throughput.",
    subcommands: [BenchEngine.self, BenchQueue.self]
  )
}
