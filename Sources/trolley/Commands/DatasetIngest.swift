import ArgumentParser
import Datasets

/// `trolley dataset ingest NAME --images DIR|GLOB|MANIFEST [--chunk N]`.
struct DatasetIngest: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ingest",
    abstract: "Add images to a dataset and enqueue curate.ingest jobs for the new ones.",
    discussion: """
      Sources are sorted and copied in as pending items; one curate.ingest job per --chunk ids
      reads, decodes, hashes and filters them. Sources already in the dataset are skipped, so
      running the same ingest again adds nothing.

      Examples:
        trolley dataset ingest photos --images ./photos
        trolley dataset ingest photos --images './photos/*.jpg' --chunk 500
        trolley dataset ingest photos --images list.jsonl --json
      """)

  @Argument(help: "The dataset's name.")
  var name: String

  @Option(help: "A folder (recursive), a glob, or a manifest (.jsonl, .csv, .txt).")
  var images: String

  @Option(help: "Items per curate.ingest job (default 1000).")
  var chunk = 1000

  @Option(help: "The queue the jobs go to.")
  var queue = "default"

  @OptionGroup var options: OperatorOptions

  func run() async throws {
    let context = try options.context()
    let (store, jobs) = try context.datasets()
    do {
      let sources = try SourceList.expand(images)
      guard !sources.isEmpty else {
        throw ValidationError("--images \(images) holds no images (.jpg, .jpeg, .png, .webp)")
      }
      let plan = try await DatasetPlanner(store: store, jobs: jobs, queue: queue).ingest(
        dataset: name, sources: sources, chunk: chunk)
      if options.json {
        try printEncodedJSON(plan)
      } else {
        print(
          "\(plan.dataset): \(plan.sources) sources, \(plan.added) new items, \(plan.jobs) curate.ingest jobs"
        )
      }
    } catch let error as DatasetError {
      throw datasetFailure(error)
    }
  }
}
