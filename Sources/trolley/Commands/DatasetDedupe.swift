import ArgumentParser
import Curation
import Datasets
import TrolleyJobContracts

/// `trolley dataset dedupe NAME [--distance D] [--hash KIND]`.
struct DatasetDedupe: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "dedupe",
    abstract: "Enqueue the curate.dedupe jobs (after the dataset's unfinished ingest jobs).",
    discussion: """
      Exact copies (same sha256) and near copies (Hamming distance <= D on the hash) are grouped;
      each group keeps the item with the most pixels, then the lowest id. The work is a chain of
      jobs that several workers share: 1 reset, 4 exact (by sha256 prefix), (D + 1) x 4 pairs
      (one per band of the hash and quarter of its values) and 1 groups job.

      --exact groups byte-identical copies only (no pairs jobs): for sets whose distinct images
      look alike to a grayscale hash, e.g. synthetic shapes that differ only in colour (the
      perceptual hashes of the design are computed on luminance).

      Examples:
        trolley dataset dedupe photos
        trolley dataset dedupe photos --distance 6 --hash dhash --json
        trolley dataset dedupe shapes --exact
      """)

  @OptionGroup var dataset: DatasetName

  @Option(help: "Largest Hamming distance of a near duplicate, 0 to 31 (default 4).")
  var distance = 4

  @Option(help: "The hash: phash (default), dhash, ahash or whash.")
  var hash = "phash"

  @Flag(help: "Exact copies only (same sha256): no perceptual pass.")
  var exact = false

  @OptionGroup var jobs: DatasetJobOptions

  func validate() throws {
    guard HashKind(rawValue: hash) != nil else {
      throw ValidationError("--hash must be phash, dhash, ahash or whash, got \(hash)")
    }
    guard (0...31).contains(distance) else {
      throw ValidationError("--distance must be 0 to 31, got \(distance)")
    }
  }

  func run() async throws {
    try await jobs.withPlanner { _, planner in
      let plan = try await planner.dedupe(
        dataset: dataset.name, hash: HashKind(rawValue: hash) ?? .phash, distance: distance,
        exactOnly: exact)
      try jobs.options.show(plan) {
        "\(plan.dataset): \(plan.jobs) curate.dedupe jobs ending with job \(plan.jobID) (\(plan.exactOnly ? "exact copies only" : "\(plan.hash) <= \(plan.distance)")), after \(plan.waitsFor) unfinished ingest and dedupe jobs"
      }
    }
  }
}
