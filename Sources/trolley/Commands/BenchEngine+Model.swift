import Foundation
import Tensor
import TroL
import TrolleyBench

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
    configuration.traversals = traversal
    try runOptions.report(
      header:
        "model \(directory), threads \(TensorThreads.count); measuring sgemm peak and bandwidth...",
      { line in
        try EngineBenchmark.run(modelDirectory: directory, configuration: configuration) {
          line($0.line)
        }
      }, summary: \.machine.line)
  }
}
