import ArgumentParser
import Curation
import Foundation
import TroLSynthesis
import TrolleyBench

/// `trolley bench ingest`: curate.ingest's per-image work on one core.
struct BenchIngest: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ingest",
    abstract: "Measure ingest images/s on one core (decode, sha256, four hashes), JPEG and PNG.",
    discussion: """
      Synthetic 640x480 images are encoded in memory first; only the per-image work a
      curate.ingest job does is timed (no database, no file reads).

      Examples:
        trolley bench ingest
        trolley bench ingest --count 2000 --json
      """)

  @Option(help: "Images per format (default 500).")
  var count = 500

  @Flag(help: "Print JSON.")
  var json = false

  func validate() throws {
    guard (1...100_000).contains(count) else {
      throw ValidationError("--count must be 1 to 100000, got \(count)")
    }
  }

  func run() throws {
    var results: [IngestBenchmark.Result] = []
    for format in ["jpeg", "png"] {
      results.append(
        try IngestBenchmark.run(format: format, count: count) { image in
          format == "png" ? PNGEncoder.encode(image) : JPEGEncoder.encode(image, quality: 90)
        })
    }
    if json {
      try printEncodedJSON(results)
      return
    }
    for r in results {
      print(
        "\(r.format) 640x480: \(r.images) images in \(String(format: "%.2f", r.seconds)) s wall, \(String(format: "%.2f", r.cpuSeconds)) s CPU: \(String(format: "%.1f", r.imagesPerCPUSecond)) images per CPU-second (\(String(format: "%.1f", r.imagesPerSecond)) per wall second)"
      )
    }
  }
}
