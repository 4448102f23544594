import ArgumentParser
import Datasets
import Foundation
import JobQueue
import Postgres
import TrolleyBasics

/// `trolley dataset`: curation of image collections as queue jobs (docs/curation.md).
struct Dataset: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Curate image datasets: ingest, check, filter, dedupe, caption, export (jobs on the queue).",
    discussion: """
      Examples:
        trolley dataset create photos
        trolley dataset ingest photos --images ./photos
        trolley worker --kinds curate.ingest,curate.dedupe
        trolley dataset dedupe photos
        trolley dataset show photos
        trolley dataset caption photos
        trolley dataset export photos --format webdataset --out /data/shards/photos
        trolley dataset export vqa --format llava --out ./vqa-llava
        trolley dataset hash a.png b.jpg --json
      """,
    subcommands: [
      DatasetCreate.self, DatasetList.self, DatasetIngest.self, DatasetDedupe.self,
      DatasetFilter.self, DatasetShow.self, DatasetDuplicates.self, DatasetCaption.self,
      DatasetExport.self, DatasetHash.self,
    ])
}

extension OperatorContext {
  /// The curation store and the queue over one small pool.
  func datasets() throws -> (DatasetStore, JobStore) {
    let jobs = try store()
    return (DatasetStore(client: jobs.client), jobs)
  }
}

/// Prints an Encodable value as one line of JSON with sorted keys; `keys` may rename them (such as
/// `.convertToSnakeCase` for a report whose types keep Swift's names).
func printEncodedJSON(
  _ value: some Encodable, keys: JSONEncoder.KeyEncodingStrategy = .useDefaultKeys
) throws {
  let encoder = JSONEncoder()
  encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
  encoder.dateEncodingStrategy = .iso8601
  encoder.keyEncodingStrategy = keys
  print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// Turns a curation error into the CLI's clean failure.
func datasetFailure(_ error: DatasetError) -> ValidationError {
  ValidationError(error.message)
}
