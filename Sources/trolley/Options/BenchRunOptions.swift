import ArgumentParser
import Foundation
import Tensor

/// What every in-process engine benchmark (`bench engine|quality|worker|train-steps`) takes: the
/// kernels' thread count and JSON instead of a table.
struct BenchRunOptions: ParsableArguments {
  @Option(
    help:
      "Engine threads: OpenBLAS and the SIMD kernels (default: $TROLLEY_THREADS, else the physical cores)."
  )
  var threads: Int?

  @Flag(help: "Print one JSON object instead of a table.")
  var json = false

  func validate() throws {
    if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
  }

  /// Sets the kernels' thread count when --threads was given (else the default stays).
  func configureThreads() {
    if let threads { TensorThreads.configure(count: threads) }
  }

  /// Runs a benchmark and reports it as they all do: on a table `header` first, a line per
  /// measurement as `run` hands them to `line`, and `summary` of the report last; with --json only
  /// the report, as JSON, at the end.
  func report<Report: Encodable>(
    header: String, _ run: (_ line: (String) -> Void) throws -> Report,
    summary: (Report) -> String
  ) throws {
    let json = self.json
    if !json { print(header) }
    let report = try run { line in if !json { print(line) } }
    if json {
      try printReport(report)
    } else {
      print(summary(report))
    }
  }
}

/// Prints a benchmark's report as indented JSON with sorted keys (`--json`).
func printReport(_ report: some Encodable) throws {
  let encoder = JSONEncoder()
  encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
  print(String(decoding: try encoder.encode(report), as: UTF8.self))
}
