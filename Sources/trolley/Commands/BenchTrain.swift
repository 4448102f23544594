import ArgumentParser
import Foundation

/// `trolley bench train`: a DiLoCo run measured end to end. This file holds the command and the
/// options every part shares; `--workers` (BenchTrainWorkers.swift) runs the run as queue jobs
/// with 1, 2, 4… worker processes against the database.
struct BenchTrain: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "train",
    abstract:
      "Measure training rounds: time per round and where shard time goes, with 1, 2, 4 workers.",
    discussion: """
      With --workers 1,2,4, for each count a fresh run (`train start` with the options below) is \
      trained by that many `trolley worker --kinds train.shard,train.merge` processes on this \
      machine against the configured database, and the jobs' own timings are read back: seconds \
      per round (merge r finished to merge r+1 finished; round 0 from the first shard's start), \
      and of the shards' wall time the fractions spent computing (the H inner steps), loading \
      (model, trainer and resume state), transferring (artifacts in and out) and the rest \
      (queue, result, process); utilisation is shard compute over workers × wall time.

      With --worker-prefix (repeated), the workers start under those commands in turn, e.g. \
      `ip netns exec HOST` for workers on simulated hosts (Ops/bench-train-hosts builds two \
      network namespaces and a PostgreSQL listening on TCP for them). The workers get this \
      command's database URL, so it must be one they can reach.

      Example:
        trolley bench train --model /tmp/tiny --data /tmp/data.json --workers 1,2,4 \\
          --rounds 3 --shards 4 --inner-steps 50 --batch-size 1
      """)

  @Option(help: "The model folder.") var model: String
  @Option(help: "A LLaVA JSON file (images relative to its folder).") var data: String
  @Option(help: "The trainable set.") var trainable: String = "step1"
  @Option(help: "Rounds R.") var rounds: Int = 3
  @Option(help: "Shards per round K (a multiple of each worker count keeps workers busy).")
  var shards: Int = 4
  @Option(help: "Inner steps per shard H.") var innerSteps: Int = 50
  @Option(help: "Examples per inner step B.") var batchSize: Int = 1
  @Option(help: "Inner learning rate.") var lr: Double = 1e-3
  @Option(help: "LoRA rank (step2).") var loraRank: Int = 8
  @Option(
    help: ArgumentHelp("Comma-separated worker process counts.", valueName: "counts"),
    transform: { try CommaSeparated.integers($0, option: "--workers", in: 1...64) })
  var workers: [Int] = [1, 2, 4]
  @Option(help: "Engine threads per worker process (default: the cores divided by the workers).")
  var threads: Int?
  @Option(
    help: ArgumentHelp(
      "A command to start each worker under (words split at spaces), e.g. 'ip netns exec host-a'; repeat it for several hosts: the workers take them in turn.",
      valueName: "command"))
  var workerPrefix: [String] = []
  @OptionGroup var options: OperatorOptions

  func validate() throws {
    guard rounds >= 1, shards >= 1, innerSteps >= 1, batchSize >= 1 else {
      throw ValidationError("--rounds, --shards, --inner-steps and --batch-size must be at least 1")
    }
    if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    if launchPrefixes.contains(where: \.isEmpty) {
      throw ValidationError(
        "--worker-prefix must name a command, e.g. 'ip netns exec host-a'; got an empty one")
    }
  }

  /// `--worker-prefix` as argument lists.
  var launchPrefixes: [[String]] {
    workerPrefix.map { $0.split(separator: " ").map(String.init) }
  }

  func run() async throws {
    try await runWorkers()
  }
}
