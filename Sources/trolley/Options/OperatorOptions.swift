import ArgumentParser

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
}
