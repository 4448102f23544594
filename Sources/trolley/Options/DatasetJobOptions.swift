import ArgumentParser
import Datasets
import TrolleyBasics

/// The options of the dataset commands that plan curation jobs (ingest, dedupe, caption, export):
/// the queue the jobs go to, `--json`, the configuration file and the database.
struct DatasetJobOptions: ParsableArguments {
  @Option(help: "The queue the jobs go to.")
  var queue = "default"

  @OptionGroup var options: OperatorOptions

  /// Runs `body` with the curation store and a planner on `--queue`; a `DatasetError` becomes the
  /// usage error that names it.
  func withPlanner<Value>(
    _ body: (DatasetStore, DatasetPlanner) async throws -> Value
  ) async throws -> Value {
    try await options.withDatasets { store, jobs in
      try await body(store, DatasetPlanner(store: store, jobs: jobs, queue: queue))
    }
  }
}
