import ArgumentParser
import Datasets
import TrolleyBasics
import TrolleyCLIKit
import TrolleyJobContracts

/// `trolley dataset ingest NAME --images DIR|GLOB|MANIFEST [--chunk N]`.
struct DatasetIngest: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ingest",
    abstract: "Add images to a dataset and enqueue curate.ingest jobs for the new ones.",
    discussion: """
      Sources are sorted and copied in as pending items; one curate.ingest job per --chunk ids \
      reads, decodes, hashes and filters them. Sources already in the dataset are skipped, so \
      running the same ingest again adds nothing.

      A JSONL, CSV or TSV manifest may have several rows per image with "question" and \
      "answer" columns (a VQA set): the item keeps every pair, and `dataset export --format \
      llava` writes one conversation per pair. A "caption" column becomes the item's caption; \
      other columns are kept as the item's metadata.

      Examples:
        trolley dataset ingest photos --images ./photos
        trolley dataset ingest photos --images './photos/*.jpg' --chunk 500
        trolley dataset ingest vqa --images train.csv      # image,question,answer rows
        trolley dataset ingest photos --images list.jsonl --json
      """)

  @OptionGroup var dataset: DatasetName

  @Option(help: "A folder (recursive), a glob, or a manifest (.jsonl, .csv, .tsv, .txt).")
  var images: String

  @Option(help: "Items per curate.ingest job (default 1000).")
  var chunk = 1000

  @OptionGroup var jobs: DatasetJobOptions

  func run() async throws {
    try await jobs.withPlanner { _, planner in
      let sources = try Self.sources(images)
      guard !sources.isEmpty else {
        throw ValidationError("--images \(images) holds no images (.jpg, .jpeg, .png, .webp)")
      }
      let plan = try await planner.ingest(dataset: dataset.name, sources: sources, chunk: chunk)
      try jobs.options.show(plan) {
        "\(plan.dataset): \(plan.sources) sources, \(plan.added) new items, \(plan.jobs) curate.ingest jobs"
      }
    }
  }

  /// The sources with what their manifest rows say (questions, answers, caption, metadata).
  static func sources(_ images: String) throws -> [IngestSource] {
    do {
      return try ManifestImage.read(ManifestSource.detect(images)).map { image in
        IngestSource(
          source: image.image,
          metadata: image.metadata.isEmpty ? nil : JSONValue.object(image.metadata),
          answers: image.questions.map { ItemAnswer(question: $0.question, answer: $0.answer) },
          caption: image.caption)
      }
    } catch {
      throw ValidationError(error.message)
    }
  }
}
