import ArgumentParser
import Foundation
import JobQueue
import Postgres
import Tensor
import Training
import TrolleyBasics
import TrolleyJobContracts
import TrolleyWorkers

#if canImport(Glibc)
  import Glibc
#endif

/// The multi-worker part of `trolley bench train`: one run per worker count, trained by that many
/// worker processes, measured from the jobs' own timings.
extension BenchTrain {
  struct WorkerRun: Encodable {
    var workers: Int
    var rounds: Int
    var wallSeconds: Double
    var secondsPerRound: Double
    var shardSeconds: Double
    var computeFraction: Double
    var loadFraction: Double
    var transferFraction: Double
    var otherFraction: Double
    var mergeSeconds: Double
    var utilisation: Double
    var finalLoss: Double?

    enum CodingKeys: String, CodingKey {
      case workers, rounds
      case wallSeconds = "wall_s"
      case secondsPerRound = "round_s"
      case shardSeconds = "shard_s"
      case computeFraction = "compute"
      case loadFraction = "load"
      case transferFraction = "transfer"
      case otherFraction = "other"
      case mergeSeconds = "merge_s"
      case utilisation
      case finalLoss = "final_loss"
    }
  }

  struct Report: Encodable {
    var peak: MachinePeak
    /// The commands the workers started under (`--worker-prefix`), in turn; empty: directly.
    var workerPrefixes: [String]
    var runs: [WorkerRun]

    enum CodingKeys: String, SnakeCaseCodingKey {
      case peak, workerPrefixes, runs
    }
  }

  func runWorkers() async throws {
    let runs = TrainingRuns(store: try options.store())
    let url = try options.database.resolve(configFile: options.config.file)
      .resolvedConnectionString()
    let binary = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
    let absolute = { (path: String) in URL(fileURLWithPath: path).standardizedFileURL.path }
    let cores = ProcessInfo.processInfo.activeProcessorCount
    // The machine's peak now, beside the figures it bounds (the machine may be shared).
    let peak = MachinePeak.measure()
    if !options.json {
      print(
        "model \(model), \(trainable), R \(rounds), K \(shards), H \(innerSteps), B \(batchSize); "
          + "\(cores) cores")
      print(
        String(
          format: "peak (%d threads): FMA loop %.1f GFLOPS (cpu %.1f), streaming read %.2f GB/s",
          peak.threads, peak.fmaGFLOPS, peak.fmaGFLOPSCPU, peak.readGBPerSecond))
      if !workerPrefix.isEmpty {
        print("workers start under, in turn: " + workerPrefix.joined(separator: " | "))
      }
      print("workers  round_s  shard_s  compute  load  transfer  other  merge_s  util  loss")
    }
    var results: [WorkerRun] = []
    let stamp = Int(Date().timeIntervalSince1970)
    for count in workers {
      let settings = TrainingRunSettings(
        run: "bench-\(stamp)-w\(count)", model: absolute(model), data: absolute(data),
        trainable: trainable, rounds: rounds, shards: shards, innerSteps: innerSteps,
        batchSize: batchSize, lr: lr, minLR: lr / 10, weightDecay: 0, maxGradNorm: 1,
        loraRank: loraRank, loraAlpha: Double(loraRank), seed: 1, outerLR: 0.7,
        outerMomentum: 0.9, artifacts: nil)
      let loaded = try DiLoCoRound.model(settings)
      let base = try DiLoCoRound.baseCheckpoint(settings, model: loaded)
      let run = try await runs.run(try await start(runs, settings, base: base))
      let perWorker = threads ?? max(1, cores / count)
      let prefixes = launchPrefixes
      let processes = try (0..<count).map { index in
        try spawnWorker(
          binary: binary, url: url, threads: perWorker,
          prefix: prefixes.isEmpty ? [] : prefixes[index % prefixes.count])
      }
      defer {
        for p in processes where p.isRunning {
          kill(p.processIdentifier, SIGTERM)
          p.waitUntilExit()
        }
      }
      var jobs: [TrainingRuns.JobRow] = []
      while true {
        jobs = try await runs.jobs(run)
        if let dead = jobs.first(where: { $0.state == "dead" || $0.state == "cancelled" }) {
          throw ValidationError(
            "bench run \(settings.run): job \(dead.id) ended \(dead.state): \(dead.lastError ?? "")"
          )
        }
        if jobs.allSatisfy({ $0.state == "succeeded" }) { break }
        if let exited = processes.first(where: { !$0.isRunning }) {
          throw ValidationError(
            "a worker exited with status \(exited.terminationStatus) before the run finished")
        }
        try await Task.sleep(for: .milliseconds(200))
      }
      let row = Self.measure(jobs, workers: count, rounds: rounds)
      results.append(row)
      if !options.json {
        print(
          String(
            format: "%7d  %7.2f  %7.2f  %6.1f%%  %4.1f%%  %7.1f%%  %4.1f%%  %7.3f  %3.0f%%  %@",
            count, row.secondsPerRound, row.shardSeconds, row.computeFraction * 100,
            row.loadFraction * 100, row.transferFraction * 100, row.otherFraction * 100,
            row.mergeSeconds, row.utilisation * 100,
            row.finalLoss.map { String(format: "%.4f", $0) } ?? "-"))
      }
    }
    if options.json {
      try printReport(Report(peak: peak, workerPrefixes: workerPrefix, runs: results))
    }
  }

  private func start(_ runs: TrainingRuns, _ settings: TrainingRunSettings, base: [UInt8])
    async throws -> String
  {
    _ = try await runs.start(settings, base: base)
    return settings.run
  }

  /// Starts one worker, under `prefix` when given (through env, which finds the prefix's command
  /// on the PATH and execs it, so the process stays the one signalled at the end).
  private func spawnWorker(binary: String, url: String, threads: Int, prefix: [String]) throws
    -> Process
  {
    let process = Process()
    let arguments = [
      "worker", "--kinds", "train.shard,train.merge", "--poll-interval", "0.05",
      "--memory-limit", "none", "--no-maintenance", "--log-level", "warning",
    ]
    if prefix.isEmpty {
      process.executableURL = URL(fileURLWithPath: binary)
      process.arguments = arguments
    } else {
      process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
      process.arguments = prefix + [binary] + arguments
    }
    var environment = ProcessInfo.processInfo.environment
    environment["TROLLEY_DATABASE_URL"] = url
    environment["TROLLEY_THREADS"] = String(threads)
    process.environment = environment
    try process.run()
    return process
  }

  /// The run's timings from its jobs: attempts' start and end, and the shards' and merges' own
  /// measurements in their results.
  static func measure(_ jobs: [TrainingRuns.JobRow], workers: Int, rounds: Int) -> WorkerRun {
    let decoder = JSONDecoder()
    var shardWall = 0.0
    var compute = 0.0
    var load = 0.0
    var transfer = 0.0
    var merge = 0.0
    var lastLosses: [Double] = []
    for job in jobs {
      guard let started = job.attemptedAt, let finished = job.finishedAt,
        let text = job.result
      else { continue }
      if job.kind == TrainShard.name,
        let result = try? decoder.decode(TrainShard.Result.self, from: Data(text.utf8))
      {
        shardWall += finished.timeIntervalSince(started)
        compute += result.computeSeconds
        load += result.loadSeconds ?? 0
        transfer += result.transferSeconds
        if job.round == rounds - 1 { lastLosses.append(result.loss) }
      } else if job.kind == TrainMerge.name,
        let result = try? decoder.decode(TrainMerge.Result.self, from: Data(text.utf8))
      {
        merge += result.seconds
      }
    }
    let begin = jobs.compactMap(\.attemptedAt).min() ?? Date()
    let end = jobs.compactMap(\.finishedAt).max() ?? begin
    let wall = max(end.timeIntervalSince(begin), 1e-9)
    let shardCount = Double(max(jobs.filter { $0.kind == TrainShard.name }.count, 1))
    let denominator = max(shardWall, 1e-9)
    return WorkerRun(
      workers: workers, rounds: rounds, wallSeconds: wall, secondsPerRound: wall / Double(rounds),
      shardSeconds: shardWall / shardCount, computeFraction: compute / denominator,
      loadFraction: load / denominator, transferFraction: transfer / denominator,
      otherFraction: max(0, 1 - (compute + load + transfer) / denominator),
      mergeSeconds: merge / Double(rounds), utilisation: compute / (Double(workers) * wall),
      finalLoss: lastLosses.isEmpty ? nil : lastLosses.reduce(0, +) / Double(lastLosses.count))
  }
}
