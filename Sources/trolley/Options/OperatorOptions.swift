import ArgumentParser
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
}
