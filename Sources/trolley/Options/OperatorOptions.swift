import ArgumentParser
import Datasets
import JobQueue
import TrolleyCLIKit
import TrolleyJobContracts

/// The options of the operator commands that read or change the queue and can print JSON:
/// `--json`, the configuration file and the database.
struct OperatorOptions: ParsableArguments {
  @Flag(help: "Print JSON.")
  var json = false

  @OptionGroup var config: ConfigOptions

  @OptionGroup var database: DatabaseOptions

  /// The effective configuration and the way to the queue.
  func context() throws -> OperatorContext {
    try OperatorContext(config: config, database: database)
  }

  /// The queue, over the configured database.
  func store() throws -> JobStore {
    try context().store()
  }

  /// Runs `body` with the curation store and the queue over one small pool; a `DatasetError`
  /// becomes the usage error that names it.
  func withDatasets<Value>(
    _ body: (DatasetStore, JobStore) async throws -> Value
  ) async throws -> Value {
    let (store, jobs) = try context().datasets()
    do {
      return try await body(store, jobs)
    } catch let error as DatasetError {
      throw datasetFailure(error)
    }
  }

  /// Prints a dry run's preview: JSON with `--json`, else the text saying what `verb` would do.
  func show(_ preview: DryRunPreview, verb: String) {
    show(preview.json(), text: preview.text(verb: verb))
  }

  /// Prints what a command found or did: `value` as one line of JSON with `--json`, else `text`
  /// as it is (it ends its own lines). Only the one printed is built.
  func show(_ value: @autoclosure () -> JSONValue, text: @autoclosure () -> String) {
    if json {
      printJSON(value())
    } else {
      print(text(), terminator: "")
    }
  }

  /// Prints what a command did: `value` as one line of JSON with `--json`, else the line `text`.
  func show(_ value: some Encodable, line text: () -> String) throws {
    if json {
      try printEncodedJSON(value)
    } else {
      print(text())
    }
  }
}
