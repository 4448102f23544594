import ArgumentParser
import TrolleyCLIKit

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

  /// Prints a dry run's preview: JSON with `--json`, else the text saying what `verb` would do.
  func show(_ preview: DryRunPreview, verb: String) {
    if json {
      printJSON(preview.json())
    } else {
      print(preview.text(verb: verb), terminator: "")
    }
  }
}
