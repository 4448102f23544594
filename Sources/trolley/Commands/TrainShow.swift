import ArgumentParser
import Foundation
import TrolleyCLIKit
import TrolleyJobContracts
import TrolleyWorkers

/// `trolley train show`: a run's rounds: loss per shard, time, failures, and the loss curve.
struct TrainShow: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "show",
    abstract: "Show a run: per round the loss of each shard, the merge, time; a loss sparkline.",
    discussion: """
      --json prints {"run", "state", "rounds": [{"round", "loss", "shards": [{"shard", "state", \
      "loss", "error"}], "eval", "seconds"}]}, loss being the mean training loss of the round's \
      shards and eval {"state", "loss", "examples", "answered", "exact_match", "seconds"} (null \
      for a run without a held-out split). A failed shard shows its state (dead) and its reason. --plot writes the loss curve \
      as an SVG file.
      """)

  @Argument(help: "The run's name.") var run: String
  @Option(help: "Write the loss curve to this SVG file.") var plot: String?
  @OptionGroup var options: OperatorOptions

  func run() async throws {
    let runs = TrainingRuns(store: try options.context().store())
    let record = try await runs.run(run)
    let jobs = try await runs.jobs(record)
    var rounds: [[String: Any]] = []
    var curve: [Double] = []
    var text: [String] = []
    var failed: [String] = []
    for r in 0..<record.settings.rounds {
      let shards = jobs.filter { $0.round == r && $0.kind == TrainShard.name }
      let merge = jobs.first { $0.round == r && $0.kind == TrainMerge.name }
      let evalJob = jobs.first { $0.round == r && $0.kind == TrainEval.name }
      var shardObjects: [[String: Any]] = []
      var losses: [Double] = []
      for job in shards {
        var object: [String: Any] = [
          "shard": job.shard ?? -1, "state": job.state, "job": job.id, "attempt": job.attempt,
        ]
        if let result = job.result,
          let decoded = try? JSONDecoder().decode(TrainShard.Result.self, from: Data(result.utf8))
        {
          object["loss"] = decoded.loss
          object["compute_seconds"] = decoded.computeSeconds
          object["transfer_seconds"] = decoded.transferSeconds
          losses.append(decoded.loss)
        }
        if job.state == "dead" || job.state == "retrying" || job.state == "cancelled",
          let error = job.lastError
        {
          object["error"] = error
          if job.state == "dead" {
            failed.append("round \(r) shard \(job.shard ?? -1) (job \(job.id)): \(error)")
          }
        }
        shardObjects.append(object)
      }
      let starts = shards.compactMap(\.attemptedAt)
      let seconds =
        merge?.finishedAt.flatMap { end in starts.min().map { end.timeIntervalSince($0) } }
      var evalObject: Any = NSNull()
      var evalText = ""
      if let evalJob {
        var object: [String: Any] = ["state": evalJob.state, "job": evalJob.id]
        if let result = evalJob.result,
          let decoded = try? JSONDecoder().decode(TrainEval.Result.self, from: Data(result.utf8))
        {
          object["loss"] = decoded.loss
          object["examples"] = decoded.examples
          object["answered"] = decoded.answered
          object["exact_match"] = decoded.exactMatch ?? NSNull()
          object["seconds"] = decoded.seconds
          evalText =
            String(format: "  eval loss %.4f", decoded.loss)
            + (decoded.exactMatch.map {
              String(format: " exact %.1f%% of %d", $0 * 100, decoded.answered)
            } ?? "")
        } else {
          evalText = "  eval \(evalJob.state)"
        }
        if evalJob.state == "dead", let error = evalJob.lastError {
          object["error"] = error
          failed.append("round \(r) eval (job \(evalJob.id)): \(error)")
        }
        evalObject = object
      }
      var round: [String: Any] = [
        "round": r, "shards": shardObjects, "eval": evalObject,
        "merge": merge?.state ?? "missing",
      ]
      let mean =
        losses.count == shards.count && !losses.isEmpty
        ? losses.reduce(0, +) / Double(losses.count) : nil
      round["loss"] = mean ?? NSNull()
      round["seconds"] = seconds ?? NSNull()
      if let mean { curve.append(mean) }
      rounds.append(round)
      let shardText = shardObjects.map { o -> String in
        if let loss = o["loss"] as? Double { return String(format: "%.4f", loss) }
        return o["state"] as? String ?? "?"
      }.joined(separator: " ")
      text.append(
        "round \(r): loss \(mean.map { String(format: "%.4f", $0) } ?? "-")  shards [\(shardText)]  merge \(merge?.state ?? "-")"
          + (seconds.map { String(format: "  %.1f s", $0) } ?? "") + evalText)
    }
    let merged = jobs.filter { $0.kind == TrainMerge.name && $0.state == "succeeded" }.count
    // The run completes when its evals have too (they are off the critical path, not optional).
    let pendingEvals = jobs.filter { $0.kind == TrainEval.name && $0.state != "succeeded" }.count
    let state =
      !failed.isEmpty
      ? "failed" : merged == record.settings.rounds && pendingEvals == 0 ? "finished" : "running"
    if let plot { try svg(curve).write(toFile: plot, atomically: true, encoding: .utf8) }
    if options.json {
      let object: [String: Any] = [
        "run": run, "state": state, "batch": record.batchID, "rounds": rounds,
        "failed": failed,
      ]
      let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
      print(String(decoding: data, as: UTF8.self))
      return
    }
    let s = record.settings
    print(
      "run \(run): \(state), \(merged)/\(s.rounds) rounds merged; K \(s.shards), H \(s.innerSteps), B \(s.batchSize), outer η \(s.outerLR) μ \(s.outerMomentum), batch \(record.batchID)"
    )
    for line in text { print(line) }
    if !curve.isEmpty { print("loss " + Formatting.sparkline(curve)) }
    for f in failed { print("failed: " + f) }
  }

  /// The loss curve as a small SVG polyline.
  private func svg(_ values: [Double]) -> String {
    let width = 480.0
    let height = 240.0
    let top = values.max() ?? 1
    let bottom = min(values.min() ?? 0, top)
    let span = max(top - bottom, 1e-12)
    let points = values.enumerated().map { i, v -> String in
      let x = 20 + (width - 40) * Double(i) / Double(max(values.count - 1, 1))
      let y = 20 + (height - 40) * (1 - (v - bottom) / span)
      return String(format: "%.1f,%.1f", x, y)
    }.joined(separator: " ")
    return """
      <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))">
      <title>\(run): mean shard training loss per round</title>
      <polyline fill="none" stroke="black" stroke-width="2" points="\(points)"/>
      <text x="4" y="14" font-size="12">\(String(format: "%.4f", top))</text>
      <text x="4" y="\(Int(height) - 4)" font-size="12">\(String(format: "%.4f", bottom))</text>
      </svg>

      """
  }
}
