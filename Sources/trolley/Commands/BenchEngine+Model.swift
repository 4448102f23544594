import Foundation
import TrolleyBench
import Tensor
import TroL

extension BenchEngine {
  /// `--model DIR`: whole-model timings per weight format (EngineBenchmark).
  func runModel(_ directory: String) throws {
    var configuration = EngineBenchmark.Configuration()
    var seen = Set<WeightFormat>()
    configuration.formats = formats.compactMap { format -> WeightFormat? in
      let weight: WeightFormat
      switch format.rawValue {
      case "f32": weight = .f32
      case "q8": weight = .q8
      case "q4": weight = .q4
      default: weight = .f16
      }
      return seen.insert(weight).inserted ? weight : nil
    }
    configuration.batchSizes = parsedDecodeRows() ?? [1, 8]
    configuration.sharedQuestions = sharedQuestions
    configuration.decodeTokens = decodeTokens
    configuration.imagePrefill = !noImage
    configuration.prefillEveryFormat = prefillEveryFormat
    let json = self.json
    if !json {
      print(
        "model \(directory), threads \(TensorThreads.count); measuring sgemm peak and bandwidth...")
    }
    let report = try EngineBenchmark.run(modelDirectory: directory, configuration: configuration) {
      result in
      guard !json else { return }
      var line = String(format: "%-4@ load %6.1f s", result.format, result.loadSeconds)
      if let vision = result.visionSeconds, let tokens = result.prefillTokens,
        let rate = result.prefillTokensPerSecond,
        let gflops = result.prefillGFLOPS, let fraction = result.prefillFractionOfPeak
      {
        line += String(
          format: " | vision %6.2f s | prefill %d tok %7.1f tok/s %6.1f GFLOPS (%3.0f%% of sgemm)",
          vision, tokens, rate,
          gflops, fraction * 100)
      }
      for d in result.decode {
        line += String(
          format: " | decode b%d %6.2f tok/s (bound %6.2f, %3.0f%%)", d.batch, d.tokensPerSecond,
          d.bandwidthBoundTokensPerSecond, d.fractionOfBound * 100)
      }
      if let separate = result.separateQuestionsSeconds, let shared = result.sharedPrefixSeconds {
        line += String(format: " | 4 questions %6.1f s separate, %6.1f s shared", separate, shared)
      }
      print(line)
    }
    if json {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      print(String(decoding: try encoder.encode(report), as: UTF8.self))
    } else {
      print(
        String(
          format: "machine: sgemm %.1f GFLOPS, read %.1f GB/s, %d threads",
          report.machine.sgemmGFLOPS,
          report.machine.readGBPerSecond, report.machine.threads))
    }
  }
}
